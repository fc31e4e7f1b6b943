/**
 * How the cell sorter goes behind the link (board builds, virtual boards, the host's register map): the camera
 * port `cam` is the board top's video input (LinkTopOptions.videoIn), not a link channel; `cam_on` (CTRL bit 1)
 * goes out with it as the frame grabber's acquisition enable. The serial engine has no camera port: no video input.
 */
import type { Module } from '../hdl';
import type { LinkTopOptions } from '../link/top';

export const CELLNET_DESIGN = 'cellnet';
export const CELLNET_VIDEO = 'cam';

export function cellnetLinkOptions(core: Module, extra: Partial<LinkTopOptions> = {}): LinkTopOptions {
  const hasCamera = core.streams.some((s) => s.name === CELLNET_VIDEO && s.dir === 'in');
  return { design: CELLNET_DESIGN, ...(hasCamera ? { videoIn: [{ stream: CELLNET_VIDEO, enable: 'cam_on' }] } : {}), ...extra };
}
