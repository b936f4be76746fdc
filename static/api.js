// REST calls to Viva's /api. Every failure becomes an ApiError carrying the server's
// {"detail", "code"} sentence, so the page can show it instead of swallowing it.
// With VIVA_AUTH=jwt every call carries `Authorization: Bearer <token>`, the token the
// host app handed over (see app.js); it is kept in memory and this tab's sessionStorage.

const TOKEN_KEY = "viva.token";
let token = sessionStorage.getItem(TOKEN_KEY);

export function setToken(value) {
  token = value || null;
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export const hasToken = () => Boolean(token);

export class ApiError extends Error {
  constructor(message, code, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

async function request(method, path, { query, body } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [name, value] of Object.entries(query || {})) url.searchParams.set(name, value);
  let response;
  try {
    const headers = body ? { "Content-Type": "application/json" } : {};
    if (token) headers.Authorization = `Bearer ${token}`;
    response = await fetch(url, { method, headers, body: body ? JSON.stringify(body) : undefined });
  } catch (error) {
    throw new ApiError(`Could not reach the server (${error.message}).`, "network_error", 0);
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    // not JSON: handled below
  }
  if (!response.ok) {
    const detail = data && data.detail ? data.detail : `${response.status} ${response.statusText}`;
    throw new ApiError(detail, (data && data.code) || "http_error", response.status);
  }
  return data;
}

// `userId` is null when the server decides who is calling (a token, or the anonymous cookie)
const who = (userId) => (userId ? { user_id: userId } : {});

export const getConfig = () => request("GET", "/api/config");

export const listInterviews = (userId) => request("GET", "/api/interviews", { query: who(userId) });

export const startCollector = (userId, candidateName, followUps = false) =>
  request("POST", "/api/collector/start", {
    body: {
      ...who(userId),
      follow_ups: followUps,
      ...(candidateName ? { candidate_name: candidateName } : {}),
    },
  });

// With auth on the page does not know its user's id: "me" is whoever the token names.
export const getProgress = (userId) =>
  request("GET", `/api/users/${encodeURIComponent(userId || "me")}/progress`, {
    query: who(userId),
  });

export const getInterview = (interviewId, userId) =>
  request("GET", `/api/interviews/${encodeURIComponent(interviewId)}`, { query: who(userId) });

export const startInterview = (interviewId, userId) =>
  request("POST", `/api/interviews/${encodeURIComponent(interviewId)}/start`, {
    body: who(userId),
  });

export const getFeedback = (sessionId, userId) =>
  request("GET", `/api/interviews/sessions/${encodeURIComponent(sessionId)}/feedback`, {
    query: who(userId),
  });

export const getTranscript = (kind, sessionId, userId) =>
  request("GET", `/api/transcripts/${kind}/${encodeURIComponent(sessionId)}`, { query: who(userId) });

// A single-use, 60-second ticket for this session's call socket: the only credential a
// socket URL ever carries.
export const getTicket = async (kind, sessionId, userId) =>
  (await request("POST", "/api/tickets", {
    body: { ...who(userId), session_type: kind, session_id: sessionId },
  })).ticket;
