// A dependency-free loss-curve plot (SVG) for the run directory: training
// loss per step, validation loss points when there are any.

export interface Series {
  readonly label: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number])[];
}

export function lossCurveSvg(title: string, series: readonly Series[], width = 640, height = 360): string {
  const all = series.flatMap((s) => s.points).filter(([, y]) => Number.isFinite(y));
  const pad = { l: 56, r: 16, t: 32, b: 40 };
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const x0 = Math.min(...xs, 0);
  const x1 = Math.max(...xs, 1);
  const y0 = Math.min(...ys, Infinity) || 0;
  const y1 = Math.max(...ys, -Infinity) || 1;
  const sx = (x: number) => pad.l + ((x - x0) / Math.max(1e-9, x1 - x0)) * (width - pad.l - pad.r);
  const sy = (y: number) => height - pad.b - ((y - y0) / Math.max(1e-9, y1 - y0)) * (height - pad.t - pad.b);
  const esc = (t: string) => t.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  const lines = series.map((s, i) => {
    const pts = s.points.filter(([, y]) => Number.isFinite(y));
    const path = pts.map(([x, y], k) => `${k === 0 ? "M" : "L"}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(" ");
    const dots = pts.length <= 50 ? pts.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="2.5" fill="${s.color}"/>`).join("") : "";
    return `<path d="${path}" fill="none" stroke="${s.color}" stroke-width="1.5"/>${dots}<text x="${width - pad.r - 150}" y="${pad.t + 14 * i}" font-size="12" fill="${s.color}">${esc(s.label)}</text>`;
  });
  const ticks = [0, 0.25, 0.5, 0.75, 1].map((f) => {
    const y = y0 + f * (y1 - y0);
    return `<text x="${pad.l - 6}" y="${sy(y) + 4}" font-size="11" text-anchor="end">${y.toFixed(3)}</text><line x1="${pad.l}" x2="${width - pad.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${pad.l}" y="20" font-size="14">${esc(title)}</text>`,
    ...ticks,
    `<text x="${(width + pad.l) / 2}" y="${height - 8}" font-size="12" text-anchor="middle">optimizer step (${x0}–${x1})</text>`,
    ...lines,
    "</svg>",
    "",
  ].join("\n");
}
