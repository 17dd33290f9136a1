// A small SVG line chart, written from the numbers with no plotting library: panels side by side, each with a
// logarithmic x axis (how many objects), a linear y axis starting at 0 in the panel's unit, and a legend.

export interface Series {
  name: string;
  /** [x, y] pairs; x > 0 (log scale). */
  points: [number, number][];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
}

const colours = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const panelWidth = 420;
const panelHeight = 300;
const margin = { left: 64, right: 16, top: 40, bottom: 92 };

export function lineChartSvg(title: string, panels: readonly Panel[], columns = 2): string {
  const rows = Math.ceil(panels.length / columns);
  const width = panelWidth * Math.min(columns, panels.length);
  const height = panelHeight * rows + 36;
  const body = panels.map((panel, index) =>
    panelSvg(panel, (index % columns) * panelWidth, 36 + Math.floor(index / columns) * panelHeight),
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
    // The title is the image's text alternative (biome's a11y rule, and screen readers, look for it).
    `<title>${xmlText(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${xmlText(title)}</text>`,
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

function panelSvg(panel: Panel, left: number, top: number): string {
  const x0 = left + margin.left;
  const x1 = left + panelWidth - margin.right;
  const y0 = top + panelHeight - margin.bottom;
  const y1 = top + margin.top;
  const xs = panel.series.flatMap((s) => s.points.map(([x]) => x)).filter((x) => x > 0);
  const ys = panel.series.flatMap((s) => s.points.map(([, y]) => y)).filter(Number.isFinite);
  const out: string[] = [
    `<text x="${(x0 + x1) / 2}" y="${top + 22}" text-anchor="middle" font-size="13" font-weight="bold">${xmlText(panel.title)}</text>`,
  ];
  if (xs.length === 0) {
    out.push(`<text x="${(x0 + x1) / 2}" y="${(y0 + y1) / 2}" text-anchor="middle">not measured</text>`);
    return out.join('\n');
  }
  const lowDecade = Math.floor(Math.log10(Math.min(...xs)));
  const highDecade = Math.max(lowDecade + 1, Math.ceil(Math.log10(Math.max(...xs))));
  const xAt = (x: number) => x0 + ((Math.log10(x) - lowDecade) / (highDecade - lowDecade)) * (x1 - x0);
  const yMax = niceCeiling(Math.max(...ys, 0));
  const yAt = (y: number) => y0 - (y / yMax) * (y0 - y1);
  // Axes, grid and ticks: each decade on x, five steps on y.
  out.push(`<line x1="${x0}" y1="${y0}" x2="${x1}" y2="${y0}" stroke="black"/>`);
  out.push(`<line x1="${x0}" y1="${y0}" x2="${x0}" y2="${y1}" stroke="black"/>`);
  for (let decade = lowDecade; decade <= highDecade; decade++) {
    const x = xAt(10 ** decade);
    out.push(`<line x1="${x}" y1="${y0}" x2="${x}" y2="${y1}" stroke="#ddd"/>`);
    out.push(
      `<text x="${x}" y="${y0 + 15}" text-anchor="middle">${(10 ** decade).toLocaleString('en')}</text>`,
    );
  }
  for (let step = 0; step <= 5; step++) {
    const value = (yMax / 5) * step;
    const y = yAt(value);
    if (step > 0) out.push(`<line x1="${x0}" y1="${y}" x2="${x1}" y2="${y}" stroke="#eee"/>`);
    out.push(`<text x="${x0 - 6}" y="${y + 4}" text-anchor="end">${formatTick(value)}</text>`);
  }
  out.push(
    `<text x="${(x0 + x1) / 2}" y="${y0 + 32}" text-anchor="middle">${xmlText(panel.xLabel)}</text>`,
    `<text transform="translate(${left + 16} ${(y0 + y1) / 2}) rotate(-90)" text-anchor="middle">${xmlText(panel.yLabel)}</text>`,
  );
  panel.series.forEach((series, index) => {
    const colour = colours[index % colours.length]!;
    const points = series.points.filter(([x, y]) => x > 0 && Number.isFinite(y));
    if (points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map(([x, y]) => `${xAt(x).toFixed(1)},${yAt(y).toFixed(1)}`).join(' ')}"/>`,
      );
    for (const [x, y] of points)
      out.push(
        `<circle cx="${xAt(x).toFixed(1)}" cy="${yAt(y).toFixed(1)}" r="3.5" fill="${colour}"><title>${xmlText(series.name)}: ${formatTick(y)} at ${x}</title></circle>`,
      );
    const legendY = y0 + 48 + index * 14;
    out.push(
      `<line x1="${x0}" y1="${legendY - 4}" x2="${x0 + 18}" y2="${legendY - 4}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${x0 + 24}" y="${legendY}">${xmlText(series.name)}</text>`,
    );
  });
  return out.join('\n');
}

/** 1, 2 or 5 times a power of ten, at least `value` (and above 0). */
function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function formatTick(value: number): string {
  return Number.isInteger(value) ? value.toLocaleString('en') : value.toFixed(value < 10 ? 1 : 0);
}

function xmlText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
