// The scenes, in the order of the navigation bar.
import { DrawScene } from './draw.js';
import { CorrelateScene } from './correlate.js';
import { TransposeScene } from './transpose.js';
import { DenseScene } from './dense.js';
import { TemplatesScene } from './templates.js';
import { TrainScene } from './train.js';
import { LookScene } from './look.js';

export const SCENES = [DrawScene, CorrelateScene, TransposeScene, DenseScene, TemplatesScene, TrainScene, LookScene];
