//! Checks a built binary before it becomes a Lambda bundle.

use anyhow::bail;

const EM_X86_64: u16 = 0x3e;
const EM_AARCH64: u16 = 0xb7;

/// The binary is a 64-bit little-endian ELF executable for the wanted machine, and the
/// newest glibc symbol version it references is at most `max`. Returns that version.
pub fn check(bytes: &[u8], arm64: bool, max: (u32, u32)) -> anyhow::Result<(u32, u32)> {
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" {
        bail!("not an ELF file");
    }
    if bytes[4] != 2 || bytes[5] != 1 {
        bail!("not a 64-bit little-endian ELF file");
    }
    let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
    let want = if arm64 { EM_AARCH64 } else { EM_X86_64 };
    if machine != want {
        bail!("built for ELF machine {machine:#x}, expected {want:#x}");
    }
    let needs = newest_glibc(bytes).unwrap_or((2, 0));
    if needs > max {
        bail!("needs glibc {}.{}, newer than the runtime's {}.{}", needs.0, needs.1, max.0, max.1);
    }
    Ok(needs)
}

/// The newest `GLIBC_x.y` version string in the binary (its symbol version needs).
pub fn newest_glibc(bytes: &[u8]) -> Option<(u32, u32)> {
    let tag = b"GLIBC_";
    let mut newest = None;
    let mut i = 0;
    while let Some(pos) = bytes[i..].windows(tag.len()).position(|w| w == tag) {
        let start = i + pos + tag.len();
        let digits: Vec<u8> = bytes[start..].iter().take_while(|b| b.is_ascii_digit() || **b == b'.').copied().collect();
        let text = String::from_utf8_lossy(&digits);
        let mut parts = text.split('.').filter_map(|p| p.parse::<u32>().ok());
        if let (Some(major), Some(minor)) = (parts.next(), parts.next()) {
            newest = newest.max(Some((major, minor)));
        }
        i = start;
    }
    newest
}

#[cfg(test)]
mod tests {
    use super::*;

    fn elf(machine: u16, extra: &[u8]) -> Vec<u8> {
        let mut b = vec![0u8; 64];
        b[..4].copy_from_slice(b"\x7fELF");
        b[4] = 2;
        b[5] = 1;
        b[18..20].copy_from_slice(&machine.to_le_bytes());
        b.extend_from_slice(extra);
        b
    }

    #[test]
    fn finds_the_newest_glibc_version() {
        assert_eq!(newest_glibc(b"..GLIBC_2.17\0GLIBC_2.34\0GLIBC_2.2.5\0"), Some((2, 34)));
        assert_eq!(newest_glibc(b"no versions"), None);
    }

    #[test]
    fn refuses_wrong_machines_and_new_glibc() {
        assert_eq!(check(&elf(EM_AARCH64, b"GLIBC_2.17\0GLIBC_2.34\0"), true, (2, 34)).unwrap(), (2, 34));
        assert!(check(&elf(EM_X86_64, b"GLIBC_2.17\0"), true, (2, 34)).is_err(), "x86_64 binary for arm64");
        let err = check(&elf(EM_AARCH64, b"GLIBC_2.36\0"), true, (2, 34)).unwrap_err();
        assert!(err.to_string().contains("needs glibc 2.36"), "{err}");
        assert!(check(b"#!/bin/sh\n", true, (2, 34)).is_err());
    }
}
