/* Seawatch live map: an audible alarm for critical alerts, and opt-in desktop notifications.
 *
 * A flashing card goes unseen when the duty officer is on the phone or looking at another screen.
 * The alarm is a two-tone beep made in the page with WebAudio (no sound file, no network), repeated
 * every two seconds while any real critical alert is open (not acknowledged) and not muted. Browsers
 * let a page make sound only after a click on it, hence the "Enable sound" button; once enabled, the
 * audio context runs only while the alarm sounds (suspended otherwise).
 *
 * Mute silences the alerts sounding now; an alert that opens later sounds again. Acknowledging an
 * alert stops its alarm for good.
 */
(function () {
  "use strict";

  const REPEAT_MS = 2000;
  const TONES = [
    [0.0, 880],
    [0.32, 660],
  ]; // [start s, frequency Hz]: a two-tone call unlike any notification chime
  const TONE_S = 0.28;

  function create(onChange) {
    let ctx = null;
    let enabled = false;
    let sounding = false;
    let timer = null;
    let due = new Set(); // alert ids that call for the alarm now
    const muted = new Set();

    function changed() {
      if (typeof onChange === "function") onChange();
    }

    function beep() {
      if (!ctx || !sounding) return;
      const t0 = ctx.currentTime + 0.02;
      for (const [start, frequency] of TONES) {
        const osc = ctx.createOscillator();
        const gain = ctx.createGain();
        osc.type = "sine";
        osc.frequency.value = frequency;
        gain.gain.setValueAtTime(0.0001, t0 + start);
        gain.gain.exponentialRampToValueAtTime(0.35, t0 + start + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, t0 + start + TONE_S);
        osc.connect(gain);
        gain.connect(ctx.destination);
        osc.start(t0 + start);
        osc.stop(t0 + start + TONE_S + 0.02);
      }
    }

    function start() {
      if (sounding) return;
      sounding = true;
      ctx.resume().then(() => {
        beep();
        changed();
      }, changed);
      timer = setInterval(() => {
        if (ctx.state !== "running") ctx.resume().then(beep, () => {});
        else beep();
      }, REPEAT_MS);
      changed();
    }

    function stop() {
      if (timer) clearInterval(timer);
      timer = null;
      const was = sounding;
      sounding = false;
      if (ctx && ctx.state === "running") ctx.suspend().then(changed, changed);
      if (was) changed();
    }

    function sync() {
      let call = false;
      for (const id of due) if (!muted.has(id)) call = true;
      if (enabled && call) start();
      else stop();
      changed();
    }

    return {
      /** From a click (browsers allow sound only after one): make and start the audio context. */
      enable() {
        const Context = window.AudioContext || window.webkitAudioContext;
        if (!Context) return false;
        if (!ctx) ctx = new Context();
        enabled = true;
        ctx.resume().then(sync, sync);
        return true;
      },
      disable() {
        enabled = false;
        stop();
        changed();
      },
      /** The alert ids that call for the alarm (open, critical, real); ids no longer due leave the mute list. */
      update(ids) {
        due = new Set(ids);
        for (const id of Array.from(muted)) if (!due.has(id)) muted.delete(id);
        sync();
      },
      mute() {
        for (const id of due) muted.add(id);
        sync();
      },
      enabled: () => enabled,
      sounding: () => sounding,
      state: () => (ctx ? ctx.state : "none"),
    };
  }

  /** Desktop notifications, asked for with a click; each new critical alert shows one (plain text only). */
  function notifier() {
    let on = false;
    return {
      supported: () => typeof window.Notification === "function",
      on: () => on && window.Notification && window.Notification.permission === "granted",
      request() {
        if (typeof window.Notification !== "function") return Promise.resolve(false);
        return Promise.resolve(window.Notification.requestPermission()).then((permission) => {
          on = permission === "granted";
          return on;
        });
      },
      /** title and body are shown as text by the system, never as markup. */
      show(tag, title, body) {
        if (!this.on()) return null;
        try {
          return new window.Notification(title, { body: body, tag: tag, requireInteraction: true });
        } catch (e) {
          return null; // some platforms allow notifications only from a service worker
        }
      },
    };
  }

  window.SeawatchAlarm = { create: create, notifier: notifier };
})();
