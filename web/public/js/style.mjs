// Colours, symbols and legends. Palettes are colour-blind safe: viridis for
// deciles, ColorBrewer PuOr for change, Okabe–Ito colours with distinct
// shapes for asset categories.

/** Viridis, 10 classes: decile 1 (most deprived 10% in England) first. */
export const DECILE_COLOURS = [
  '#440154', '#482878', '#3e4989', '#31688e', '#26828e',
  '#1f9e89', '#35b779', '#6ece58', '#b5de2b', '#fde725',
];
export const NO_DATA = '#d0d0d0';

/**
 * ColorBrewer PuOr (5): orange = more deprived than in 2019, purple = less.
 * The change is a whole number of deciles (the 2019 decile is carried
 * over, never averaged), so there are no fractional classes.
 */
export const CHANGE_CLASSES = [
  { colour: '#e66101', label: 'Down 2 or more deciles (more deprived)' },
  { colour: '#fdb863', label: 'Down 1 decile' },
  { colour: '#f7f7f7', label: 'No change' },
  { colour: '#b2abd2', label: 'Up 1 decile' },
  { colour: '#5e3c99', label: 'Up 2 or more deciles (less deprived)' },
];
const CHANGE_BREAKS = [-1.5, -0.5, 0.5, 1.5];

/** MapLibre expression colouring a decile property (1..10; null = no data). */
export function decileColour(prop) {
  const expr = ['match', ['coalesce', ['get', prop], -1]];
  DECILE_COLOURS.forEach((c, i) => expr.push(i + 1, c));
  expr.push(NO_DATA);
  return expr;
}

/** MapLibre expression colouring a change property (2025 minus 2019 decile). */
export function changeColour(prop) {
  const expr = ['step', ['to-number', ['get', prop]], CHANGE_CLASSES[0].colour];
  CHANGE_BREAKS.forEach((b, i) => expr.push(b, CHANGE_CLASSES[i + 1].colour));
  return ['case', ['==', ['get', prop], null], NO_DATA, expr];
}

/** The colour of a decile, for the panel's chips. */
export function colourOfDecile(d) {
  return d >= 1 && d <= 10 ? DECILE_COLOURS[Math.round(d) - 1] : NO_DATA;
}

/** Text colour readable on a decile colour. */
export function inkOn(d) {
  return d >= 1 && d <= 10 && Math.round(d) <= 6 ? '#fff' : '#000';
}

/** The colour of a change value. */
export function colourOfChange(v) {
  if (v === null || v === undefined) return NO_DATA;
  let i = 0;
  while (i < CHANGE_BREAKS.length && v >= CHANGE_BREAKS[i]) i += 1;
  return CHANGE_CLASSES[i].colour;
}

const OKABE_ITO = ['#E69F00', '#56B4E9', '#009E73', '#0072B2', '#D55E00', '#CC79A7', '#000000', '#F0E442'];
const SHAPES = ['circle', 'square', 'triangle', 'diamond', 'star', 'hexagon', 'plus', 'triangle-down', 'pentagon'];

/** A distinct (shape, colour) per category index. */
export function symbolFor(index) {
  return {
    shape: SHAPES[index % SHAPES.length],
    colour: OKABE_ITO[(index * 3) % OKABE_ITO.length],
  };
}

function polygon(ctx, cx, cy, r, n, rot) {
  ctx.beginPath();
  for (let i = 0; i < n; i += 1) {
    const a = rot + (i * 2 * Math.PI) / n;
    const x = cx + r * Math.cos(a);
    const y = cy + r * Math.sin(a);
    if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.closePath();
}

/** Draws a category symbol on a canvas of `size` pixels; returns the canvas. */
export function drawSymbol({ shape, colour }, size = 22) {
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  const c = size / 2;
  // Room for a two-tone halo: a dark outer ring and a white inner one, so
  // every symbol contrasts with every decile colour (dark purple to yellow).
  const r = size * 0.28;
  ctx.fillStyle = colour;
  ctx.lineJoin = 'round';
  switch (shape) {
    case 'circle': ctx.beginPath(); ctx.arc(c, c, r, 0, 2 * Math.PI); break;
    case 'square': ctx.beginPath(); ctx.rect(c - r * 0.85, c - r * 0.85, r * 1.7, r * 1.7); break;
    case 'triangle': polygon(ctx, c, c + r * 0.15, r * 1.1, 3, -Math.PI / 2); break;
    case 'triangle-down': polygon(ctx, c, c - r * 0.15, r * 1.1, 3, Math.PI / 2); break;
    case 'diamond': polygon(ctx, c, c, r * 1.1, 4, 0); break;
    case 'hexagon': polygon(ctx, c, c, r, 6, 0); break;
    case 'pentagon': polygon(ctx, c, c, r * 1.05, 5, -Math.PI / 2); break;
    case 'star': {
      ctx.beginPath();
      for (let i = 0; i < 10; i += 1) {
        const rr = i % 2 === 0 ? r * 1.15 : r * 0.5;
        const a = -Math.PI / 2 + (i * Math.PI) / 5;
        const x = c + rr * Math.cos(a);
        const y = c + rr * Math.sin(a);
        if (i === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
      }
      ctx.closePath();
      break;
    }
    case 'plus': {
      const w = r * 0.45;
      ctx.beginPath();
      ctx.moveTo(c - w, c - r); ctx.lineTo(c + w, c - r); ctx.lineTo(c + w, c - w); ctx.lineTo(c + r, c - w);
      ctx.lineTo(c + r, c + w); ctx.lineTo(c + w, c + w); ctx.lineTo(c + w, c + r); ctx.lineTo(c - w, c + r);
      ctx.lineTo(c - w, c + w); ctx.lineTo(c - r, c + w); ctx.lineTo(c - r, c - w); ctx.lineTo(c - w, c - w);
      ctx.closePath();
      break;
    }
    default: ctx.beginPath(); ctx.arc(c, c, r, 0, 2 * Math.PI);
  }
  // Strokes are centred on the outline, so each band is half its width
  // outside: dark 0.17 × size out, white 0.085 × size out (about 2 px each
  // at the map's 22 px).
  ctx.strokeStyle = '#1a1a1a';
  ctx.lineWidth = size * 0.34;
  ctx.stroke();
  ctx.strokeStyle = '#fff';
  ctx.lineWidth = size * 0.17;
  ctx.stroke();
  ctx.fill();
  return canvas;
}

/** HTML for the decile legend. */
export function decileLegend({ title, note }) {
  const ramp = DECILE_COLOURS.map((c, i) => `<span style="background:${c}" title="Decile ${i + 1}"></span>`).join('');
  return `<h3>${title}</h3>
    <div class="ramp" role="img" aria-label="Colour ramp from decile 1, most deprived, dark purple, to decile 10, least deprived, yellow">${ramp}</div>
    <div class="ramp-labels"><span>1</span><span>2</span><span>3</span><span>4</span><span>5</span><span>6</span><span>7</span><span>8</span><span>9</span><span>10</span></div>
    <p>National deciles: <strong>1 = most deprived 10%</strong> of areas in England, 10 = least deprived 10%.</p>
    <div class="row"><span class="sw" style="background:${NO_DATA}"></span> No data published</div>
    ${note ? `<p class="hint">${note}</p>` : ''}`;
}

/** HTML for the change legend. */
export function changeLegend({ title }) {
  const rows = CHANGE_CLASSES.map((c) => `<div class="row"><span class="sw" style="background:${c.colour}"></span>${c.label}</div>`).join('');
  return `<h3>${title}</h3>${rows}
    <div class="row"><span class="sw" style="background:${NO_DATA}"></span> No data</div>
    <p class="hint">2025 decile minus the 2019 decile, on 2021 LSOAs. The 2019 decile is the one of the matched 2011 LSOA
    (unchanged or split, ONS lookup), or, where LSOAs were merged or redrawn, the decile of the
    <strong>linked 2011 LSOA with the largest mid-2015 population</strong> (deciles cannot be averaged). Deciles are relative to England: a rise means less deprived relative to other areas.</p>`;
}
