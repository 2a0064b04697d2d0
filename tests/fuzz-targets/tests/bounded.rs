//! The fuzz targets on the stable toolchain, bounded: every file of the committed corpus
//! (`fuzz/corpus/<target>/`), then up to `GEN3D_FUZZ_RUNS` (default 20 000) inputs per
//! target generated from them by seeded mutations (bit flips, byte changes, cuts,
//! splices, repeats, interesting integers), within `GEN3D_FUZZ_SECONDS` (default 4) per
//! target: the same inputs in the same order on every run, cut off by time on a slow
//! machine. `make fuzz-stable` raises both. A panic is reported with the input that caused it,
//! written to `target/fuzz-failures/` to become a corpus file and a regression case.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = gen3d_testkit::repo().join("fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten().map(|e| e.path()).collect();
    files.sort();
    let seeds: Vec<Vec<u8>> = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
    assert!(!seeds.is_empty(), "{}: no corpus", dir.display());
    seeds
}

const INTERESTING: [u32; 8] = [0, 1, 0x7F, 0xFF, 0x7FFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF];

fn mutate(rng: &mut StdRng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.random_range(0..seeds.len())].clone();
    for _ in 0..rng.random_range(1..=4) {
        let len = data.len();
        match rng.random_range(0..7) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                data[i] = rng.random();
            }
            2 if len > 0 => data.truncate(rng.random_range(0..len)),
            3 => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let at = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                data.splice(at..at, other[from..].iter().copied().take(64));
            }
            4 if len > 0 => {
                let (a, b) = (rng.random_range(0..len), rng.random_range(0..len));
                let (a, b) = (a.min(b), a.max(b).min(a + 32));
                let chunk = data[a..b].to_vec();
                for _ in 0..rng.random_range(1..8) {
                    data.splice(b..b, chunk.iter().copied());
                }
            }
            5 if len >= 4 => {
                let i = rng.random_range(0..=len - 4);
                data[i..i + 4].copy_from_slice(&INTERESTING[rng.random_range(0..INTERESTING.len())].to_le_bytes());
            }
            _ => data.push(rng.random()),
        }
    }
    data
}

fn run(name: &str, target: fn(&[u8]), input: &[u8], failures: &mut Vec<String>) {
    if catch_unwind(AssertUnwindSafe(|| target(input))).is_err() {
        let dir = gen3d_testkit::repo().join("target/fuzz-failures").join(name);
        let _ = std::fs::create_dir_all(&dir);
        let path =
            dir.join(format!("crash-{:016x}", input.iter().fold(0xcbf29ce484222325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x100000001b3))));
        let _ = std::fs::write(&path, input);
        failures.push(format!("{name}: panicked on {} bytes, saved to {}", input.len(), path.display()));
    }
}

#[test]
fn every_target_survives_its_corpus_and_generated_inputs() {
    let runs: usize = std::env::var("GEN3D_FUZZ_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let budget = std::time::Duration::from_secs_f64(std::env::var("GEN3D_FUZZ_SECONDS").ok().and_then(|v| v.parse().ok()).unwrap_or(4.0));
    let mut failures = Vec::new();
    let mut ran = Vec::new();
    for (name, target) in gen3d_fuzz_targets::TARGETS {
        let seeds = corpus(name);
        for seed in &seeds {
            run(name, target, seed, &mut failures);
        }
        let mut rng = StdRng::seed_from_u64(0x6e3d ^ name.len() as u64);
        let started = std::time::Instant::now();
        let mut generated = 0;
        while generated < runs && started.elapsed() < budget {
            let input = mutate(&mut rng, &seeds);
            run(name, target, &input, &mut failures);
            generated += 1;
        }
        ran.push(format!("{name}: {} corpus + {generated} generated in {:.1} s", seeds.len(), started.elapsed().as_secs_f64()));
    }
    println!("{}", ran.join("\n"));
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
