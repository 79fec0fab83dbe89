/** A class as figures show it: its id in the label maps, its name and its colour. */
export interface ClassStyle {
  id: number;
  name: string;
  colour: [number, number, number];
}

/**
 * The 24 classes of the paper's Cityscapes task: the 19 trainIds in the official Cityscapes colours
 * (cityscapesScripts' labels.py; the synthetic cityscapes-like images are painted in the same
 * colours, so label maps match the input), and the five flipped classes 19–23 ("sidewalk 2", …, the
 * paper's naming) in colours far from all of those.
 */
export const CITYSCAPES_CLASSES: readonly ClassStyle[] = [
  { id: 0, name: 'road', colour: [128, 64, 128] },
  { id: 1, name: 'sidewalk', colour: [244, 35, 232] },
  { id: 2, name: 'building', colour: [70, 70, 70] },
  { id: 3, name: 'wall', colour: [102, 102, 156] },
  { id: 4, name: 'fence', colour: [190, 153, 153] },
  { id: 5, name: 'pole', colour: [153, 153, 153] },
  { id: 6, name: 'traffic light', colour: [250, 170, 30] },
  { id: 7, name: 'traffic sign', colour: [220, 220, 0] },
  { id: 8, name: 'vegetation', colour: [107, 142, 35] },
  { id: 9, name: 'terrain', colour: [152, 251, 152] },
  { id: 10, name: 'sky', colour: [70, 130, 180] },
  { id: 11, name: 'person', colour: [220, 20, 60] },
  { id: 12, name: 'rider', colour: [255, 0, 0] },
  { id: 13, name: 'car', colour: [0, 0, 142] },
  { id: 14, name: 'truck', colour: [0, 0, 70] },
  { id: 15, name: 'bus', colour: [0, 60, 100] },
  { id: 16, name: 'train', colour: [0, 80, 100] },
  { id: 17, name: 'motorcycle', colour: [0, 0, 230] },
  { id: 18, name: 'bicycle', colour: [119, 11, 32] },
  { id: 19, name: 'sidewalk 2', colour: [255, 165, 0] },
  { id: 20, name: 'person 2', colour: [0, 210, 210] },
  { id: 21, name: 'car 2', colour: [255, 255, 0] },
  { id: 22, name: 'vegetation 2', colour: [160, 82, 45] },
  { id: 23, name: 'road 2', colour: [170, 130, 255] },
];
