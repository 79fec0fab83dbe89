// The part of opentype.js (which ships no types) that vega-render.ts uses.
declare module 'opentype.js' {
  namespace opentype {
    interface Glyph {
      advanceWidth?: number;
    }
    interface Font {
      unitsPerEm: number;
      charToGlyph(ch: string): Glyph;
      getKerningValue(left: Glyph, right: Glyph): number;
    }
    function parse(buffer: ArrayBuffer): Font;
  }
  export default opentype;
}
