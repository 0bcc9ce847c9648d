// Heatmaps of saliency maps: colour maps, bilinear upsampling and overlay PNGs.
export { COLORMAP_NAMES, colormapTable, type ColormapName } from './colormaps';
export { encodeRgbPng } from './pngEncode';
export { upsampleBilinear } from '../../contract/bilinear';
export {
  DEFAULT_OVERLAY_OPTIONS,
  modelRegion,
  renderOverlay,
  tensorToGray,
  type OverlayBase,
  type OverlayOptions,
} from './overlay';
