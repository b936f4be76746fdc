// One WebRTC voice call with Viva: the signaling WebSocket and the RTCPeerConnection.
//
// Protocol (viva/api/calls.py): the server says `hello` (ICE servers, session fields); we
// send an `offer` once ICE gathering completes (or after a short wait, trickling later
// candidates as `candidate` messages), apply the `answer`, and then receive text events
// (state, user_transcript, assistant_text, assistant_done, turn, completed, error…).
// Each server message is re-dispatched as a "message" event; local happenings as
// "remote-stream", "connection" and "closed" events.

export const MIC_CONSTRAINTS = {
  audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
};
const GATHER_WAIT_MS = 2000; // then send the offer anyway and trickle the rest

export async function openMicrophone() {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    const failure = new Error("This browser cannot use the microphone here (it needs https or localhost).");
    failure.name = "MicrophoneError";
    throw failure;
  }
  try {
    return await navigator.mediaDevices.getUserMedia(MIC_CONSTRAINTS);
  } catch (error) {
    const failure = new Error(`Microphone unavailable: ${error.message || error.name}`);
    failure.name = "MicrophoneError";
    throw failure;
  }
}

export function stopStream(stream) {
  if (stream) stream.getTracks().forEach((track) => track.stop());
}

// Calls onLevel(rms 0..1) every 100 ms with the level of `stream`; returns a stop function.
export function watchLevel(stream, onLevel) {
  const context = new AudioContext();
  const analyser = context.createAnalyser();
  analyser.fftSize = 1024;
  context.createMediaStreamSource(stream).connect(analyser);
  context.resume().catch(() => {});
  const samples = new Float32Array(analyser.fftSize);
  const timer = setInterval(() => {
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const value of samples) sum += value * value;
    onLevel(Math.sqrt(sum / samples.length));
  }, 100);
  return () => {
    clearInterval(timer);
    context.close().catch(() => {});
  };
}

export function callUrl(kind, sessionId, ticket) {
  const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
  const path = kind === "collector" ? "collector" : "interviews";
  const query = new URLSearchParams({ ticket });
  return `${scheme}//${window.location.host}/api/${path}/sessions/${encodeURIComponent(sessionId)}/call?${query}`;
}

function gatheringComplete(pc, waitMs) {
  if (pc.iceGatheringState === "complete") return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(false), waitMs);
    const check = () => pc.iceGatheringState === "complete" && done(true);
    function done(complete) {
      clearTimeout(timer);
      pc.removeEventListener("icegatheringstatechange", check);
      resolve(complete);
    }
    pc.addEventListener("icegatheringstatechange", check);
  });
}

export class VoiceCall extends EventTarget {
  // `microphone` is an async function returning the MediaStream to send; it is called
  // only once the server has accepted the session (no mic prompt for a bad link).
  // `ticket` is an async function returning a fresh socket ticket (api.getTicket).
  constructor({ kind, sessionId, ticket, microphone }) {
    super();
    this.kind = kind;
    this.sessionId = sessionId;
    this.ticket = ticket;
    this.microphone = microphone;
    this.pc = null;
    this.ws = null;
    this.offerSent = false;
    this.closing = false;
    this.startedAt = performance.now();
    this.timings = {}; // ms since start: ws_open, hello, offer_sent, answer, ice_<state>…
  }

  mark(name) {
    if (!(name in this.timings)) this.timings[name] = Math.round(performance.now() - this.startedAt);
  }

  emit(type, detail) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  async start() {
    let ticket;
    try {
      ticket = await this.ticket();
    } catch (error) {
      this.emit("closed", { code: 4000 + (error.status || 0), reason: error.message });
      return;
    }
    if (this.closing) return;
    this.ws = new WebSocket(callUrl(this.kind, this.sessionId, ticket));
    this.ws.onopen = () => this.mark("ws_open");
    this.ws.onmessage = (message) => this.onMessage(message.data);
    this.ws.onclose = (event) => {
      if (!this.closing) this.emit("closed", { code: event.code, reason: event.reason });
      this.closePeer();
    };
  }

  send(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  sendText(text) {
    this.send({ type: "user_text", text });
  }

  hangUp() {
    if (this.closing) return;
    this.closing = true;
    this.send({ type: "hangup" });
    if (this.ws) this.ws.close(1000, "hang up");
    this.closePeer();
  }

  closePeer() {
    if (this.pc) this.pc.close();
    this.pc = null;
  }

  async onMessage(raw) {
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      this.emit("message", { type: "error", code: "bad_server_message", message: String(raw) });
      return;
    }
    this.emit("message", event);
    try {
      if (event.type === "hello") {
        this.mark("hello");
        if (!event.completed) await this.connectMedia(event.ice_servers || []);
      } else if (event.type === "answer") {
        this.mark("answer");
        if (this.pc) await this.pc.setRemoteDescription({ type: "answer", sdp: event.sdp });
      }
    } catch (error) {
      const code = error.name === "MicrophoneError" ? "microphone" : "webrtc_failed";
      this.emit("message", { type: "error", code, message: error.message });
    }
  }

  async connectMedia(iceServers) {
    const stream = await this.microphone();
    if (this.closing) return;
    const pc = new RTCPeerConnection({ iceServers });
    this.pc = pc;
    for (const track of stream.getAudioTracks()) pc.addTrack(track, stream);
    pc.ontrack = (event) =>
      this.emit("remote-stream", event.streams[0] || new MediaStream([event.track]));
    pc.onicecandidate = (event) => {
      if (this.offerSent) {
        this.send({ type: "candidate", candidate: event.candidate ? event.candidate.toJSON() : null });
      }
    };
    pc.onconnectionstatechange = () => {
      this.mark(`ice_${pc.connectionState}`);
      this.emit("connection", pc.connectionState);
    };
    await pc.setLocalDescription(await pc.createOffer());
    const complete = await gatheringComplete(pc, GATHER_WAIT_MS);
    this.mark(complete ? "ice_gathered" : "ice_gathering_slow");
    this.send({ type: "offer", sdp: pc.localDescription.sdp });
    this.offerSent = true;
    this.mark("offer_sent");
  }
}
