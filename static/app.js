// Viva's browser client: the dashboard, the voice call view, the outcome of a call.
// Deep link: /?session=<id>&kind=collector|interview opens that session's call (with
// VIVA_AUTH=none, `&user_id=…` names the user as well).
//
// Token hand-off (VIVA_AUTH=jwt): the host app that signed the user in gives the page its
// identity provider's access token, either
//   - in the URL fragment: /#access_token=<jwt> (the fragment never reaches a server; the
//     page reads it and removes it from the address bar), or
//   - by postMessage from the window that framed or opened the page, from an origin in
//     VIVA_CORS_ORIGINS: {type: "viva:token", token: "<jwt>"}. The page posts
//     {type: "viva:ready"} when it listens, and {type: "viva:token-expired"} on a 401, so
//     the host can send a fresh token at any time.
// The token goes in Authorization headers only; call sockets get single-use tickets.

import * as api from "./api.js";
import { VoiceCall, openMicrophone, stopStream, watchLevel } from "./call.js";
import { renderFeedback, renderProgress } from "./feedback.js";
import { Transcript } from "./transcript.js";

const $ = (id) => document.getElementById(id);
const USER_KEY = "viva.userId";
const FIELDS = {
  readiness: "Getting ready",
  role: "Role",
  interview_type: "Interview type",
  level: "Level",
  techstack: "Tech stack",
  amount: "Number of questions",
};
const STATES = {
  connecting: "Connecting…",
  listening: "Listening",
  thinking: "Thinking…",
  speaking: "Speaking",
  ended: "Call ended",
};

// What tests (and curious developers) can read: window.vivaDebug.
const debug = {
  view: "dashboard",
  state: "idle",
  kind: null,
  sessionId: null,
  connection: null,
  events: [], // every server event of the current call, with `at` (ms since the call began)
  errors: [], // every message shown to the user as an error
  timings: {},
  micLevel: 0,
  maxMicLevel: 0,
  remoteLevel: 0,
  maxRemoteLevel: 0,
};
window.vivaDebug = debug;

let current = null; // the open call: {call, kind, sessionId, microphone, stops[], total}
let config = { auth: "none", token_origins: [] }; // GET /api/config
const transcript = new Transcript($("transcript"));

// -- user id and errors ----------------------------------------------------------

// null with VIVA_AUTH=jwt: the token says who is calling, and no URL names the user.
function userId() {
  if (config.auth === "jwt") return null;
  return $("user-id").value.trim() || ensureUserId();
}

// -- token hand-off (VIVA_AUTH=jwt) ----------------------------------------------

function tokenFromFragment() {
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const token = fragment.get("access_token");
  if (!token) return;
  api.setToken(token);
  history.replaceState(null, "", window.location.pathname + window.location.search);
}

function toHost(message) {
  // nothing secret in these messages: any origin may hear them
  for (const host of new Set([window.parent, window.opener])) {
    if (host && host !== window) host.postMessage(message, "*");
  }
}

function onHostMessage(event) {
  const data = event.data;
  if (!data || data.type !== "viva:token" || typeof data.token !== "string") return;
  if (!config.token_origins.includes(event.origin)) return; // only the allowed host apps
  const first = !api.hasToken();
  api.setToken(data.token);
  debug.tokenReceived = true;
  if (first) {
    clearErrors();
    route();
  }
}

function needToken(error) {
  if (error && error.status === 401) toHost({ type: "viva:token-expired" });
}

function ensureUserId() {
  let id = localStorage.getItem(USER_KEY);
  if (!id) {
    const bytes = crypto.getRandomValues(new Uint8Array(4)); // works without https too
    id = `user-${Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("")}`;
    localStorage.setItem(USER_KEY, id);
  }
  $("user-id").value = id;
  return id;
}

function setUserId(id) {
  localStorage.setItem(USER_KEY, id);
  $("user-id").value = id;
}

function showError(message, where = "error", error = null) {
  needToken(error);
  debug.errors.push(message);
  const box = where === "call" ? $("call-error") : $("error-text");
  box.textContent = message;
  (where === "call" ? $("call-error") : $("error")).hidden = false;
}

function clearErrors() {
  $("error").hidden = true;
  $("call-error").hidden = true;
}

function show(view) {
  debug.view = view;
  $("dashboard").hidden = view !== "dashboard";
  $("call").hidden = view !== "call";
}

// -- dashboard --------------------------------------------------------------------

async function loadInterviews() {
  const rows = $("interview-rows");
  const owner = userId();
  let interviews;
  try {
    interviews = await api.listInterviews(owner);
  } catch (error) {
    showError(`Could not load your interviews: ${error.message}`, "error", error);
    return;
  }
  if (owner !== userId()) return; // the user id changed meanwhile; a newer load is running
  rows.replaceChildren(...interviews.map(interviewRow));
  $("interviews").hidden = interviews.length === 0;
  $("interviews-empty").hidden = interviews.length > 0;
  try {
    debug.progress = await api.getProgress(owner);
    if (owner === userId()) renderProgress(debug.progress);
  } catch (error) {
    showError(`Could not load your progress: ${error.message}`);
  }
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function interviewRow(interview) {
  const tr = document.createElement("tr");
  tr.dataset.interviewId = interview.id;
  const button = document.createElement("button");
  button.type = "button";
  button.textContent = "Start interview";
  button.dataset.action = "start-interview";
  button.setAttribute("aria-label", `Start the ${interview.role} interview`);
  button.addEventListener("click", () => beginInterview(interview.id, interview.amount));
  const actions = document.createElement("td");
  actions.append(button);
  tr.append(
    cell(interview.role),
    cell(interview.interview_type),
    cell(interview.level),
    cell(interview.techstack.join(", ")),
    cell(String(interview.amount)),
    cell(new Date(interview.created_at).toLocaleString()),
    actions,
  );
  return tr;
}

async function newInterview(event) {
  event.preventDefault();
  clearErrors();
  try {
    const reply = await api.startCollector(
      userId(),
      $("candidate-name").value.trim(),
      $("follow-ups").checked,
    );
    await openCall("collector", reply.collector_session_id);
  } catch (error) {
    showError(`Could not start a new interview: ${error.message}`, "error", error);
  }
}

async function beginInterview(interviewId, total, microphone = null) {
  clearErrors();
  try {
    const reply = await api.startInterview(interviewId, userId());
    await openCall("interview", reply.interview_session_id, { microphone, total });
  } catch (error) {
    stopStream(microphone);
    showError(`Could not start the interview: ${error.message}`, "error", error);
  }
}

// -- the call view -----------------------------------------------------------------

function openCall(kind, sessionId, { microphone = null, total = null } = {}) {
  endCall();
  clearErrors();
  resetCallView(kind, sessionId);
  show("call");
  const params = new URLSearchParams({ session: sessionId, kind, ...(userId() ? { user_id: userId() } : {}) });
  if (window.location.search !== `?${params}`) history.pushState(null, "", `/?${params}`);
  Object.assign(debug, { kind, sessionId, state: "connecting", connection: null, events: [] });
  Object.assign(debug, { micLevel: 0, maxMicLevel: 0, remoteLevel: 0, maxRemoteLevel: 0 });
  const mine = { call: null, kind, sessionId, microphone, stops: [], total };
  current = mine;
  const useMicrophone = async () => {
    const stream = mine.microphone || (await openMicrophone());
    if (current !== mine) {
      stopStream(stream); // the call was left while the browser was asking for the mic
      throw new Error("The call was closed.");
    }
    mine.microphone = stream;
    mine.stops.push(watchLevel(stream, (level) => showLevel("mic-level", level)));
    return stream;
  };
  const ticket = () => api.getTicket(kind, sessionId, userId());
  const call = new VoiceCall({ kind, sessionId, ticket, microphone: useMicrophone });
  mine.call = call;
  debug.timings = call.timings;
  const handlers = {
    message: onServerEvent,
    "remote-stream": playRemote,
    connection: onConnection,
    closed: onClosed,
  };
  for (const [type, handle] of Object.entries(handlers)) {
    call.addEventListener(type, (event) => current === mine && handle(event.detail));
  }
  call.start();
}

// Ends the open call. The microphone is stopped unless the caller takes it over.
function endCall({ keepMicrophone = false } = {}) {
  if (!current) return null;
  const { call, microphone } = current;
  stopMeters(current);
  current = null;
  if (call) call.hangUp();
  $("remote-audio").srcObject = null;
  if (keepMicrophone) return microphone;
  stopStream(microphone);
  return null;
}

function resetCallView(kind, sessionId) {
  $("call-title").textContent = kind === "collector" ? "Setting up your interview" : "Interview";
  $("call").dataset.kind = kind;
  $("call").dataset.sessionId = sessionId;
  transcript.clear();
  $("call-progress").textContent = "";
  for (const id of ["outcome", "collector-done", "feedback", "enable-sound"]) $(id).hidden = true;
  $("transcript-link").dataset.kind = kind;
  $("transcript-link").dataset.sessionId = sessionId;
  setState("connecting");
}

function setState(state) {
  debug.state = state;
  const box = $("call-state");
  box.dataset.state = state;
  box.textContent = STATES[state] || state;
  for (const id of ["text-form", "hangup", "meters"]) $(id).hidden = state === "ended";
}

function stopMeters(call) {
  call.stops.forEach((stop) => stop());
  call.stops = [];
  $("mic-level").value = 0;
  $("voice-level").value = 0;
}

function showLevel(meterId, level) {
  $(meterId).value = Math.min(1, level * 4); // speech sits around 0.05–0.25 RMS
  if (meterId === "mic-level") {
    debug.micLevel = level;
    debug.maxMicLevel = Math.max(debug.maxMicLevel, level);
  } else {
    debug.remoteLevel = level;
    debug.maxRemoteLevel = Math.max(debug.maxRemoteLevel, level);
  }
}

function playRemote(stream) {
  const audio = $("remote-audio");
  audio.srcObject = stream;
  audio.play().catch(() => {
    $("enable-sound").hidden = false; // autoplay refused until the user interacts
  });
  current.stops.push(watchLevel(stream, (level) => showLevel("voice-level", level)));
}

function onConnection(state) {
  debug.connection = state;
  if (state === "failed") {
    showError("The audio connection failed. Check your network and try again.", "call");
    setState("ended");
  }
}

// A draining server (it said `draining`) or a refusal to try again later (1013: the
// session is in a call elsewhere, or the instance is draining) reconnects through the load
// balancer, keeping the microphone: up to RECONNECT_TRIES times, waiting longer each time.
const RECONNECT_TRIES = 5;
let reconnects = { sessionId: null, tries: 0 };

function onClosed({ code, reason }) {
  const { kind, sessionId, total } = current;
  if (current.reconnect || code === 1013) {
    if (reconnects.sessionId !== sessionId) reconnects = { sessionId, tries: 0 };
    if (reconnects.tries < RECONNECT_TRIES) {
      reconnects.tries += 1;
      setState("connecting");
      const microphone = endCall({ keepMicrophone: true });
      setTimeout(() => openCall(kind, sessionId, { microphone, total }), 500 * reconnects.tries);
      return;
    }
  }
  const why = reason || (code === 1006 ? "the connection was lost" : `code ${code}`);
  showError(`The call was closed by the server: ${why}`, "call");
  setState("ended");
}

function onServerEvent(event) {
  debug.events.push({ ...event, at: Math.round(performance.now() - current.call.startedAt) });
  switch (event.type) {
    case "hello":
      reconnects = { sessionId: current.sessionId, tries: 0 };
      showProgress(event);
      if (event.completed) {
        setState("ended"); // nothing left to say: show the outcome without a call
        onCompleted(event);
      }
      break;
    case "state":
      setState(event.state);
      break;
    case "speech":
      $("mic-level").dataset.speaking = String(event.event === "start");
      break;
    case "pause":
      // the server judged the candidate's pause unfinished: say it is still listening
      if (debug.state === "listening" || event.unfinished) {
        $("call-state").textContent = event.unfinished ? "Still listening…" : STATES.listening;
      }
      break;
    case "user_transcript":
      $("call-error").hidden = true; // e.g. an earlier "I didn't catch that"
      transcript.user(event.text);
      break;
    case "continued":
      // the candidate went on before the reply was heard: the answer is not over yet, and
      // its line comes back whole with the next user_transcript
      transcript.takeBackUser(event.taken_back);
      break;
    case "assistant_text":
      transcript.replySentence(event.text);
      break;
    case "assistant_done":
      transcript.replyDone(event.text, event.interrupted);
      break;
    case "turn":
      showProgress(event);
      break;
    case "completed":
      onCompleted(event);
      break;
    case "draining":
      current.reconnect = true; // reconnect when this server closes the call
      break;
    case "error":
      $("call-error").dataset.code = event.code || "";
      showError(event.message, "call");
      if (event.code === "microphone" || event.code === "webrtc_failed") setState("ended");
      break;
    default:
      break;
  }
}

function showProgress(fields) {
  const box = $("call-progress");
  if (current.kind === "collector") {
    const field = fields.expected_field;
    const step = Object.keys(FIELDS).indexOf(field) + 1;
    box.dataset.field = field || "";
    box.textContent = field ? `Step ${step} of 6: ${FIELDS[field]}` : "All set";
  } else {
    const index = fields.question_index;
    box.dataset.questionIndex = index ?? "";
    if (index === null || index === undefined) box.textContent = "Interview complete";
    else box.textContent = `Question ${index + 1}${current.total ? ` of ${current.total}` : ""}`;
  }
}

// -- outcome -------------------------------------------------------------------------

async function onCompleted(event) {
  const mine = current;
  $("outcome").hidden = false;
  showProgress(event);
  setState("ended");
  stopMeters(mine);
  mine.call.hangUp(); // the server has nothing more to say
  if (mine.kind === "collector") {
    // the microphone stays open until the interview starts (or the user leaves)
    const button = $("start-interview");
    button.dataset.interviewId = event.interview_id || "";
    $("collector-done").hidden = !event.interview_id;
    return;
  }
  endCall();
  try {
    debug.feedback = await api.getFeedback(mine.sessionId, userId());
    renderFeedback(debug.feedback);
  } catch (error) {
    showError(`Could not load your feedback: ${error.message}`, "call", error);
  }
}

async function startFromCollector() {
  const interviewId = $("start-interview").dataset.interviewId;
  if (!interviewId) return;
  let total = null;
  try {
    total = (await api.getInterview(interviewId, userId())).amount;
  } catch {
    // the count is only shown as "of N"; the start below reports real problems
  }
  // the microphone carries over: no new permission prompt, no gap in the audio
  await beginInterview(interviewId, total, endCall({ keepMicrophone: true }));
}

// -- wiring --------------------------------------------------------------------------

function goToDashboard() {
  endCall();
  clearErrors();
  if (window.location.search) history.pushState(null, "", "/");
  show("dashboard");
  loadInterviews();
}

async function openTranscript(event) {
  // fetched with the page's credentials, then shown as JSON in a new tab
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const data = await api.getTranscript(link.dataset.kind, link.dataset.sessionId, userId());
    const blob = new Blob([JSON.stringify(data, null, 2)], { type: "application/json" });
    window.open(URL.createObjectURL(blob), "_blank", "noopener");
  } catch (error) {
    showError(`Could not load the transcript: ${error.message}`, "call", error);
  }
}

function route() {
  const params = new URLSearchParams(window.location.search);
  const session = params.get("session");
  if (config.auth === "jwt" && !api.hasToken()) {
    show("dashboard");
    showError("Waiting for sign-in: open Viva from your app, which hands it your session.");
    return;
  }
  if (params.get("user_id") && config.auth !== "jwt") setUserId(params.get("user_id"));
  if (session) {
    const kind = params.get("kind") === "collector" ? "collector" : "interview";
    if (!current || current.sessionId !== session) openCall(kind, session);
  } else {
    endCall();
    show("dashboard");
    loadInterviews();
  }
}

async function init() {
  window.addEventListener("message", onHostMessage);
  try {
    config = await api.getConfig();
  } catch (error) {
    showError(`Could not reach Viva: ${error.message}`);
  }
  debug.auth = config.auth;
  if (config.auth === "jwt") {
    tokenFromFragment();
    document.querySelector(".user").hidden = true;
  } else {
    ensureUserId();
  }
  $("user-id").addEventListener("change", () => {
    const id = $("user-id").value.trim();
    if (!id) return ensureUserId();
    setUserId(id);
    if (debug.view === "dashboard") loadInterviews();
  });
  $("error-close").addEventListener("click", () => ($("error").hidden = true));
  $("new-form").addEventListener("submit", newInterview);
  $("back").addEventListener("click", goToDashboard);
  $("home-link").addEventListener("click", (event) => {
    event.preventDefault();
    goToDashboard();
  });
  $("hangup").addEventListener("click", () => {
    endCall();
    setState("ended");
  });
  $("start-interview").addEventListener("click", startFromCollector);
  $("transcript-link").addEventListener("click", openTranscript);
  $("enable-sound").addEventListener("click", () => {
    $("remote-audio").play().then(() => ($("enable-sound").hidden = true), () => {});
  });
  $("text-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text-input").value.trim();
    if (!text || !current || !current.call) return;
    current.call.sendText(text);
    $("text-input").value = "";
  });
  window.addEventListener("popstate", route);
  route();
  toHost({ type: "viva:ready" });
}

init();
