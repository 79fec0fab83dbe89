import type { ComponentConfig } from '../spec/components.js';
import type { ProbUNetModelConfig } from '../model/config.js';

// The parameter shapes the built-in components will allocate for a config, computed without
// allocating anything, so that a checkpoint whose config disagrees with its own tensors (a forged
// or corrupt header asking for a huge model) is refused before any model is built. A test
// checks these against the components' real parameters.

type Shapes = Map<string, number[]>;

function downPath(out: Shapes, prefix: string, inputChannels: number, channels: readonly number[], convsPerBlock: number): void {
  let cin = inputChannels;
  channels.forEach((cout, i) => {
    for (let j = 0; j < convsPerBlock; j++) {
      out.set(`${prefix}${i}/conv${j}/kernel`, [3, 3, cin, cout]);
      out.set(`${prefix}${i}/conv${j}/bias`, [cout]);
      cin = cout;
    }
  });
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
const isChannels = (x: unknown): x is number[] => Array.isArray(x) && x.length > 0 && x.every((c) => isCount(c) && c > 0);

const BUILT_IN: Record<string, (c: ComponentConfig) => Shapes | null> = {
  unet: (c) => {
    if (!isChannels(c.channels) || !isCount(c.convsPerBlock) || !isCount(c.inputChannels)) return null;
    const out: Shapes = new Map();
    const ch = c.channels;
    downPath(out, 'down', c.inputChannels, ch, c.convsPerBlock);
    for (let i = ch.length - 2; i >= 0; i--) {
      let cin = ch[i + 1]! + ch[i]!;
      for (let j = 0; j < c.convsPerBlock; j++) {
        out.set(`up${i}/conv${j}/kernel`, [3, 3, cin, ch[i]!]);
        out.set(`up${i}/conv${j}/bias`, [ch[i]!]);
        cin = ch[i]!;
      }
    }
    return out;
  },
  'conv-gaussian': (c) => {
    const cond = c.conditionChannels ?? 0;
    if (!isChannels(c.channels) || !isCount(c.convsPerBlock) || !isCount(c.imageChannels) || !isCount(cond) || !isCount(c.latentDim)) return null;
    const out: Shapes = new Map();
    downPath(out, 'down', c.imageChannels + cond, c.channels, c.convsPerBlock);
    out.set('head/kernel', [1, 1, c.channels[c.channels.length - 1]!, 2 * c.latentDim]);
    out.set('head/bias', [2 * c.latentDim]);
    return out;
  },
  'tile-concat-1x1': (c) => {
    if (!isCount(c.featureChannels) || !isCount(c.latentDim) || !isCount(c.numClasses) || !isCount(c.num1x1Convs)) return null;
    const out: Shapes = new Map();
    let cin = c.featureChannels + c.latentDim;
    for (let i = 0; i <= c.num1x1Convs; i++) {
      const last = i === c.num1x1Convs;
      const cout = last ? c.numClasses : c.featureChannels;
      const name = last ? 'logits' : `conv${i}`;
      out.set(`${name}/kernel`, [1, 1, cin, cout]);
      out.set(`${name}/bias`, [cout]);
      cin = cout;
    }
    return out;
  },
};

/**
 * Per part (`unet`, `prior`, `posterior`, `fusion`), the parameter shapes by checkpoint name
 * (`unet/down0/conv0/kernel`, …) that building it with the core component would allocate; `null`
 * for a part that is not a core component (or whose config is malformed: building it says why).
 */
export function expectedParameterShapes(config: ProbUNetModelConfig): Map<string, Shapes | null> {
  const parts: Array<[string, ComponentConfig]> = [
    ['unet', config.encoder],
    ['prior', config.prior],
    ['posterior', config.posterior],
    ['fusion', config.fusion],
  ];
  return new Map(
    parts.map(([prefix, c]) => {
      const shapes = Object.hasOwn(BUILT_IN, c.type) ? BUILT_IN[c.type]!(c) : null;
      return [prefix, shapes && new Map([...shapes].map(([name, shape]) => [`${prefix}/${name}`, shape]))];
    }),
  );
}
