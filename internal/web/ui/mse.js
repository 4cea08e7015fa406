// Fragmented MP4 through Media Source Extensions, for the live view. A
// stream is read with fetch and appended as it comes; the player stays near
// the live edge and drops what it has shown.
"use strict";
window.gwMSE = (() => {
  const find = (b, s) => {
    const c = [...s].map((x) => x.charCodeAt(0));
    outer: for (let i = 0; i + c.length <= b.length; i++) {
      for (let k = 0; k < c.length; k++) if (b[i + k] !== c[k]) continue outer;
      return i;
    }
    return -1;
  };
  const hex = (n) => n.toString(16).toUpperCase().padStart(2, "0");
  // codecOf returns the MIME type of an init segment, or null while the
  // bytes so far do not hold its sample description.
  function codecOf(b) {
    let i = find(b, "avcC");
    if (i >= 0 && b.length >= i + 8) {
      const entry = find(b, "avc3") >= 0 ? "avc3" : "avc1";
      return { mime: `video/mp4; codecs="${entry}.${hex(b[i + 5])}${hex(b[i + 6])}${hex(b[i + 7])}"`, codec: "H.264" };
    }
    i = find(b, "hvcC");
    if (i >= 0) return { mime: 'video/mp4; codecs="hvc1.1.6.L93.B0"', codec: "H.265" };
    if (find(b, "moof") >= 0) return { mime: null, codec: "?" };
    return null;
  }
  const concat = (a, b) => {
    const o = new Uint8Array(a.length + b.length);
    o.set(a, 0);
    o.set(b, a.length);
    return o;
  };

  // play streams resp (a fetch Response of fragmented MP4) into video. It
  // resolves when the stream ends and rejects with {code} when the browser
  // cannot play it.
  async function play(video, resp, signal) {
    const reader = resp.body.getReader();
    let head = new Uint8Array(0);
    let kind = null;
    while (!kind) {
      const { value, done } = await reader.read();
      if (done) return;
      head = concat(head, value);
      kind = codecOf(head);
    }
    if (!kind.mime || !window.MediaSource || !MediaSource.isTypeSupported(kind.mime)) {
      reader.cancel();
      throw { code: "ui.js.video.unsupported", params: { codec: kind.codec } };
    }
    const ms = new MediaSource();
    video.src = URL.createObjectURL(ms);
    await new Promise((res) => ms.addEventListener("sourceopen", res, { once: true }));
    const sb = ms.addSourceBuffer(kind.mime);
    const queue = [head];
    let ended = false;
    const pump = () => {
      if (sb.updating || ms.readyState !== "open") return;
      const b = video.buffered;
      if (b.length) {
        const end = b.end(b.length - 1);
        // Stay near the live edge: jump when far behind, play a little
        // faster when somewhat behind; drop what has been shown.
        const behind = end - video.currentTime;
        if (behind > 1.5) video.currentTime = end - 0.2;
        video.playbackRate = behind > 0.4 ? 1.1 : 1;
        if (video.currentTime < b.start(0)) video.currentTime = b.start(0);
        if (video.currentTime - b.start(0) > 30) {
          sb.remove(b.start(0), video.currentTime - 10);
          return;
        }
        if (video.paused) video.play().catch(() => {});
      }
      if (queue.length) {
        const chunk = queue.length > 1 ? queue.splice(0).reduce(concat) : queue.shift();
        try { sb.appendBuffer(chunk); } catch (e) { console.error(e); }
      }
    };
    sb.addEventListener("updateend", pump);
    signal.addEventListener("abort", () => { reader.cancel().catch(() => {}); });
    while (!ended) {
      const { value, done } = await reader.read();
      if (done) break;
      queue.push(value);
      pump();
    }
  }
  return { play, codecOf };
})();
