// A small SVG chart writer: scales, nice ticks, axes, series, labels and a legend. No dependencies.

export interface Scale {
  (value: number): number;
  ticks: number[];
  format: (value: number) => string;
}

const escapeXml = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** Round tick values covering [min, max] with about `count` steps of 1, 2 or 5 x 10^k. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) ?? raw;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

const formatNumber = (v: number): string =>
  Math.abs(v) >= 1000 ? `${Number((v / 1000).toPrecision(3))}k` : String(Number(v.toPrecision(3)));

export function linearScale(domain: [number, number], range: [number, number]): Scale {
  const [d0, d1] = domain;
  const [r0, r1] = range;
  const span = d1 - d0 || 1;
  const scale = ((v: number) => r0 + ((v - d0) / span) * (r1 - r0)) as Scale;
  scale.ticks = niceTicks(d0, d1);
  scale.format = formatNumber;
  return scale;
}

export function logScale(domain: [number, number], range: [number, number]): Scale {
  const l0 = Math.log10(domain[0]);
  const l1 = Math.log10(domain[1]);
  const [r0, r1] = range;
  const span = l1 - l0 || 1;
  const scale = ((v: number) =>
    r0 + ((Math.log10(Math.max(v, 1e-12)) - l0) / span) * (r1 - r0)) as Scale;
  const ticks: number[] = [];
  for (let e = Math.floor(l0); e <= Math.ceil(l1); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * Math.pow(10, e);
      if (t >= domain[0] && t <= domain[1]) ticks.push(t);
    }
  }
  scale.ticks = ticks;
  scale.format = formatNumber;
  return scale;
}

export const PALETTE = [
  '#1f77b4',
  '#d62728',
  '#2ca02c',
  '#ff7f0e',
  '#9467bd',
  '#8c564b',
  '#e377c2',
  '#7f7f7f',
  '#bcbd22',
  '#17becf',
];

export interface ChartFrame {
  width: number;
  height: number;
  margin: { top: number; right: number; bottom: number; left: number };
  title: string;
  xLabel: string;
  yLabel: string;
}

/** Accumulates SVG elements inside a frame with axes. */
export class SvgChart {
  private readonly parts: string[] = [];
  readonly frame: ChartFrame;
  readonly x: Scale;
  readonly y: Scale;

  constructor(frame: ChartFrame, x: Scale, y: Scale, xTickLabel?: (v: number) => string) {
    this.frame = frame;
    this.x = x;
    this.y = y;
    const { width, height, margin } = frame;
    const left = margin.left;
    const right = width - margin.right;
    const top = margin.top;
    const bottom = height - margin.bottom;
    this.parts.push(`<rect width="${width}" height="${height}" fill="white"/>`);
    this.text(width / 2, 22, frame.title, { anchor: 'middle', size: 15, weight: 'bold' });
    for (const t of y.ticks) {
      const py = y(t);
      this.parts.push(`<line x1="${left}" x2="${right}" y1="${py}" y2="${py}" stroke="#e5e5e5"/>`);
      this.text(left - 6, py + 4, y.format(t), { anchor: 'end' });
    }
    for (const t of x.ticks) {
      const px = x(t);
      this.parts.push(`<line x1="${px}" x2="${px}" y1="${top}" y2="${bottom}" stroke="#f0f0f0"/>`);
      this.text(px, bottom + 16, xTickLabel ? xTickLabel(t) : x.format(t), { anchor: 'middle' });
    }
    this.parts.push(
      `<rect x="${left}" y="${top}" width="${right - left}" height="${bottom - top}" fill="none" stroke="#333"/>`,
    );
    this.text((left + right) / 2, height - 10, frame.xLabel, { anchor: 'middle', size: 13 });
    this.parts.push(
      `<text x="16" y="${(top + bottom) / 2}" font-size="13" font-family="sans-serif" text-anchor="middle" transform="rotate(-90 16 ${(top + bottom) / 2})">${escapeXml(frame.yLabel)}</text>`,
    );
  }

  text(
    x: number,
    y: number,
    content: string,
    style: {
      anchor?: 'start' | 'middle' | 'end';
      size?: number;
      weight?: string;
      color?: string;
    } = {},
  ): void {
    this.parts.push(
      `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" font-size="${style.size ?? 11}" font-family="sans-serif" text-anchor="${style.anchor ?? 'start'}" fill="${style.color ?? '#222'}"${style.weight ? ` font-weight="${style.weight}"` : ''}>${escapeXml(content)}</text>`,
    );
  }

  line(
    points: readonly [number, number][],
    color: string,
    options: { dashed?: boolean; width?: number } = {},
  ): void {
    if (points.length === 0) return;
    const d = points
      .map(
        ([px, py], i) => `${i === 0 ? 'M' : 'L'}${this.x(px).toFixed(1)},${this.y(py).toFixed(1)}`,
      )
      .join(' ');
    this.parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="${options.width ?? 2}"${options.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
    );
  }

  point(px: number, py: number, color: string, label?: string): void {
    const cx = this.x(px);
    const cy = this.y(py);
    this.parts.push(
      `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="5" fill="${color}" stroke="#222" stroke-width="0.5"/>`,
    );
    if (label) this.text(cx + 7, cy - 6, label, { color });
  }

  band(x0: number, x1: number, color: string, label: string): void {
    const { margin, height } = this.frame;
    const a = this.x(x0);
    const b = this.x(x1);
    this.parts.push(
      `<rect x="${Math.min(a, b)}" y="${margin.top}" width="${Math.max(2, Math.abs(b - a))}" height="${height - margin.top - margin.bottom}" fill="${color}" opacity="0.12"/>`,
    );
    this.text(Math.min(a, b) + 4, margin.top + 14, label, { color });
  }

  legend(entries: readonly { label: string; color: string; dashed?: boolean }[]): void {
    const x0 = this.frame.width - this.frame.margin.right + 12;
    entries.forEach((e, i) => {
      const y = this.frame.margin.top + 10 + i * 18;
      this.parts.push(
        `<line x1="${x0}" x2="${x0 + 22}" y1="${y}" y2="${y}" stroke="${e.color}" stroke-width="3"${e.dashed ? ' stroke-dasharray="6 4"' : ''}/>`,
      );
      this.text(x0 + 28, y + 4, e.label);
    });
  }

  toString(): string {
    const { width, height } = this.frame;
    return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${this.parts.join('\n')}\n</svg>\n`;
  }
}
