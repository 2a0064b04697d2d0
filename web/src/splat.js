// Reads a 3DGS splat PLY (binary little-endian float32 vertex properties; SAM 3D
// Objects writes x y z nx ny nz f_dc_0..2 opacity scale_0..2 rot_0..3) or a coloured
// point-cloud PLY (x y z + uchar red green blue) into points for the viewer: positions
// converted from z-up to glTF's y-up like the mesh, sRGB colours from f_dc, alpha from
// the opacity logit.

const SH_C0 = 0.28209479177387814;
const SIZES = { float: 4, float32: 4, uchar: 1, uint8: 1, char: 1, int8: 1, short: 2, ushort: 2, int16: 2, uint16: 2, int: 4, uint: 4, int32: 4, uint32: 4, double: 8, float64: 8 };

export function parseSplat(buffer) {
  const bytes = new Uint8Array(buffer);
  const end = findHeaderEnd(bytes);
  const lines = new TextDecoder().decode(bytes.subarray(0, end)).split('\n').map((l) => l.trim());
  if (lines[0] !== 'ply') throw new Error('not a PLY file');
  if (!lines.includes('format binary_little_endian 1.0')) throw new Error('only binary little-endian PLY files can be shown');
  let count = 0;
  let inVertex = false;
  const props = [];
  for (const l of lines) {
    const w = l.split(/\s+/);
    if (w[0] === 'element') {
      inVertex = w[1] === 'vertex';
      if (inVertex) count = Number(w[2]);
    } else if (w[0] === 'property' && inVertex) {
      if (w[1] === 'list') throw new Error('vertex list properties are not supported');
      props.push({ name: w[2], type: w[1] });
    }
  }
  let stride = 0;
  const at = {};
  for (const p of props) {
    const size = SIZES[p.type];
    if (!size) throw new Error(`unsupported PLY type ${p.type}`);
    at[p.name] = { offset: stride, type: p.type };
    stride += size;
  }
  if (!at.x || !at.y || !at.z) throw new Error('the PLY has no x y z');
  const data = new DataView(buffer, end);
  if (data.byteLength < count * stride) throw new Error('the PLY is truncated');
  const read = (i, p) => {
    const o = i * stride + p.offset;
    switch (p.type) {
      case 'uchar':
      case 'uint8':
        return data.getUint8(o);
      case 'double':
      case 'float64':
        return data.getFloat64(o, true);
      default:
        return data.getFloat32(o, true);
    }
  };
  const positions = new Float32Array(count * 3);
  const colours = new Float32Array(count * 4);
  const splat = !!at.f_dc_0;
  for (let i = 0; i < count; i++) {
    const x = read(i, at.x);
    const y = read(i, at.y);
    const z = read(i, at.z);
    positions.set([x, z, -y], i * 3);
    let r = 0.8;
    let g = 0.8;
    let b = 0.8;
    let a = 1;
    if (splat) {
      r = clamp(0.5 + SH_C0 * read(i, at.f_dc_0));
      g = clamp(0.5 + SH_C0 * read(i, at.f_dc_1));
      b = clamp(0.5 + SH_C0 * read(i, at.f_dc_2));
      if (at.opacity) a = 1 / (1 + Math.exp(-read(i, at.opacity)));
    } else if (at.red) {
      r = read(i, at.red) / 255;
      g = read(i, at.green) / 255;
      b = read(i, at.blue) / 255;
    }
    colours.set([r, g, b, a], i * 4);
  }
  return { count, positions, colours, splat };
}

const clamp = (v) => Math.min(1, Math.max(0, v));

function findHeaderEnd(bytes) {
  const marker = new TextEncoder().encode('end_header\n');
  const limit = Math.min(bytes.length, 64 * 1024);
  outer: for (let i = 0; i + marker.length <= limit; i++) {
    for (let j = 0; j < marker.length; j++) if (bytes[i + j] !== marker[j]) continue outer;
    return i + marker.length;
  }
  throw new Error('not a PLY file (no end_header)');
}
