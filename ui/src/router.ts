// Which view the window shows; views are chosen by the nav bar, by buttons,
// or by the tray (the `navigate` event, then `take_view`).
import type { View } from "./generated/dto";

export type Navigate = (view: View) => void;
