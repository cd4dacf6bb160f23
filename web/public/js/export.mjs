// Export of the current map view as a PNG with its legend, a scale bar,
// the data vintages and the attribution, drawn on one canvas (the map's
// own canvas keeps its drawing buffer for this).

/** Metres per CSS pixel at the map's centre (Web Mercator, 512 px tiles). */
function metresPerPixel(map) {
  const lat = map.getCenter().lat;
  return (40075016.686 * Math.cos((lat * Math.PI) / 180)) / (512 * 2 ** map.getZoom());
}

/** A round distance (m) no longer than `max`. */
function niceDistance(max) {
  const p = 10 ** Math.floor(Math.log10(max));
  const d = max / p;
  return (d >= 5 ? 5 : d >= 2 ? 2 : 1) * p;
}

function wrap(ctx, text, width) {
  const lines = [];
  let line = '';
  for (const word of String(text).split(/\s+/)) {
    const next = line ? `${line} ${word}` : word;
    if (ctx.measureText(next).width > width && line) { lines.push(line); line = word; } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}

/**
 * A PNG Blob of the map view: the map, then a side column with `title`,
 * the `swatches` ([{ colour, label }]), `notes` (vintage lines) and
 * `attribution`, and a scale bar on the map.
 */
export async function mapPng(map, { title, swatches, notes, attribution }) {
  const src = map.getCanvas();
  const ratio = src.width / src.clientWidth;
  const side = 300 * ratio;
  const out = document.createElement('canvas');
  out.width = src.width + side;
  out.height = Math.max(src.height, 520 * ratio);
  const ctx = out.getContext('2d');
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, out.width, out.height);
  ctx.drawImage(src, 0, 0);
  ctx.scale(ratio, ratio);
  const W = src.clientWidth;
  // Scale bar, bottom left of the map.
  const mpp = metresPerPixel(map);
  const metres = niceDistance(mpp * 120);
  const px = metres / mpp;
  const y = src.clientHeight - 20;
  ctx.fillStyle = 'rgba(255,255,255,.85)';
  ctx.fillRect(8, y - 18, px + 24, 28);
  ctx.strokeStyle = '#000';
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(16, y - 6); ctx.lineTo(16, y); ctx.lineTo(16 + px, y); ctx.lineTo(16 + px, y - 6);
  ctx.stroke();
  ctx.fillStyle = '#000';
  ctx.font = '12px sans-serif';
  ctx.fillText(metres >= 1000 ? `${metres / 1000} km` : `${metres} m`, 18, y - 8);
  // Legend column.
  let ty = 24;
  const x = W + 14;
  const width = 300 - 28;
  ctx.font = 'bold 14px sans-serif';
  for (const l of wrap(ctx, title, width)) { ctx.fillText(l, x, ty); ty += 18; }
  ty += 4;
  ctx.font = '12px sans-serif';
  for (const s of swatches) {
    ctx.fillStyle = s.colour;
    ctx.fillRect(x, ty - 10, 18, 12);
    ctx.strokeStyle = '#555';
    ctx.lineWidth = 1;
    ctx.strokeRect(x, ty - 10, 18, 12);
    ctx.fillStyle = '#000';
    ctx.fillText(s.label, x + 24, ty);
    ty += 17;
  }
  ty += 6;
  ctx.font = '11px sans-serif';
  ctx.fillStyle = '#333';
  for (const n of [...notes, attribution]) {
    for (const l of wrap(ctx, n, width)) { ctx.fillText(l, x, ty); ty += 14; }
    ty += 5;
  }
  return new Promise((resolve) => out.toBlob(resolve, 'image/png'));
}
