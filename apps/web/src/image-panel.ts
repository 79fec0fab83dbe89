import { createSyntheticLidc, type Example } from '@probunet/datasets';
import { redrawDrawing } from './annotate-panel.js';
import { $ } from './dom.js';
import { disposeLatent } from './latent-panel.js';
import { checkPictureFits, clearOutputs, fillGrid } from './picture.js';
import { decodeGreyPng } from './png.js';
import { drawOverlay, type Picture } from './render.js';
import { state } from './state.js';
import { act } from './status.js';

// Images: the bundled examples with their graders, or the user's own grey PNG.

/** The bundled examples: the CLI's synthetic-lidc test split at seed 0 (size 32, 4 graders). */
const EXAMPLES = createSyntheticLidc({ count: 8, size: 32, graders: 4, seed: 2_000_006 });

/** Makes `pic` the current image: a fresh empty drawing, no latent state, no outputs of the last image. */
function setPicture(pic: Picture, graders: Uint8Array[]): void {
  state.picture = pic;
  state.graders = graders;
  state.drawing = new Uint8Array(pic.height * pic.width);
  disposeLatent();
  drawOverlay($<HTMLCanvasElement>('image-canvas'), pic);
  fillGrid('grader-grid', pic, graders, 'grader', 'pic');
  $<HTMLButtonElement>('copy-grader').disabled = graders.length === 0;
  redrawDrawing();
  clearOutputs();
}

export async function showExample(index: number): Promise<void> {
  const ex: Example = await EXAMPLES.get(index);
  setPicture({ height: ex.height, width: ex.width, image: ex.image }, ex.annotations);
}

/** The example select and the image file picker. */
export function wireImagePanel(): void {
  const exampleSelect = $<HTMLSelectElement>('example-select');
  exampleSelect.replaceChildren(
    ...Array.from({ length: EXAMPLES.length }, (_, i) => Object.assign(document.createElement('option'), { value: String(i), textContent: `example ${i + 1}` })),
  );
  exampleSelect.addEventListener('change', () => act('opening the example', () => showExample(Number(exampleSelect.value))));
  $('image-file').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    if (!file) return;
    void act(`opening ${file.name}`, async () => {
      const pic = await decodeGreyPng(file);
      checkPictureFits(pic);
      setPicture(pic, []);
    }).finally(() => (input.value = ''));
  });
}
