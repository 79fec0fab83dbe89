import { Jimp, loadFont, measureText } from 'jimp';
import { SANS_12_BLACK } from 'jimp/fonts';

/** An RGB picture, row-major, 3 bytes a pixel. */
export interface RgbImage {
  width: number;
  height: number;
  rgb: Uint8Array;
}

type Font = Awaited<ReturnType<typeof loadFont>>;
let fontPromise: Promise<Font> | undefined;

/**
 * A white canvas to draw labelled figures on: pictures, rectangles and text (Jimp's bundled Open
 * Sans bitmap font), encoded as PNG.
 */
export class Figure {
  private constructor(
    private readonly image: InstanceType<typeof Jimp>,
    private readonly font: Font,
  ) {}

  static async create(width: number, height: number): Promise<Figure> {
    fontPromise ??= loadFont(SANS_12_BLACK);
    return new Figure(new Jimp({ width: Math.ceil(width), height: Math.ceil(height), color: 0xffffffff }), await fontPromise);
  }

  /** Height of a line of text, in pixels. */
  get lineHeight(): number {
    return this.font.common.lineHeight;
  }

  static async textWidth(text: string): Promise<number> {
    fontPromise ??= loadFont(SANS_12_BLACK);
    return measureText(await fontPromise, text);
  }

  text(x: number, y: number, text: string): void {
    this.image.print({ font: this.font, x: Math.round(x), y: Math.round(y), text });
  }

  /** Text centred on x. */
  textCentred(x: number, y: number, text: string): void {
    this.text(x - measureText(this.font, text) / 2, y, text);
  }

  fillRect(x: number, y: number, w: number, h: number, [r, g, b]: [number, number, number]): void {
    const { data, width, height } = this.image.bitmap;
    for (let yy = Math.max(0, y); yy < Math.min(height, y + h); yy++) {
      for (let xx = Math.max(0, x); xx < Math.min(width, x + w); xx++) {
        const o = (yy * width + xx) * 4;
        data[o] = r;
        data[o + 1] = g;
        data[o + 2] = b;
        data[o + 3] = 255;
      }
    }
  }

  /** Draws a picture with its top-left corner at (x, y), each pixel as a scale×scale block. */
  draw(x: number, y: number, picture: RgbImage, scale = 1): void {
    const { data, width } = this.image.bitmap;
    for (let py = 0; py < picture.height * scale; py++) {
      for (let px = 0; px < picture.width * scale; px++) {
        const s = (Math.floor(py / scale) * picture.width + Math.floor(px / scale)) * 3;
        const o = ((y + py) * width + (x + px)) * 4;
        data[o] = picture.rgb[s]!;
        data[o + 1] = picture.rgb[s + 1]!;
        data[o + 2] = picture.rgb[s + 2]!;
        data[o + 3] = 255;
      }
    }
  }

  async png(): Promise<Uint8Array> {
    return new Uint8Array(await this.image.getBuffer('image/png'));
  }
}
