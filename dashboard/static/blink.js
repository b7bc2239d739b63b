// Alarm flashing, in phase across the whole screen (IEC 60601-1-8: high priority 1.4-2.8 Hz, medium
// 0.4-0.8 Hz, duty cycle 20-60 %; low priority does not flash). Sets data-blink-high / data-blink-medium
// ("on" | "off") on <html>; station.css does the rest.

const HIGH_PERIOD_MS = 500; // 2 Hz, 50 % duty
const MEDIUM_PERIOD_MS = 1600; // 0.625 Hz, 50 % duty

export function blinkPhase(tMs) {
  return {
    high: tMs % HIGH_PERIOD_MS < HIGH_PERIOD_MS / 2 ? "on" : "off",
    medium: tMs % MEDIUM_PERIOD_MS < MEDIUM_PERIOD_MS / 2 ? "on" : "off",
  };
}

export function startBlinking(root = document.documentElement) {
  const tick = () => {
    const p = blinkPhase(performance.now());
    if (root.dataset.blinkHigh !== p.high) root.dataset.blinkHigh = p.high;
    if (root.dataset.blinkMedium !== p.medium) root.dataset.blinkMedium = p.medium;
  };
  tick();
  return setInterval(tick, 50);
}
