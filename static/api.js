// REST calls to Viva's /api. Every failure becomes an ApiError carrying the server's
// {"detail", "code"} sentence, so the page can show it instead of swallowing it.

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
    response = await fetch(url, {
      method,
      headers: body ? { "Content-Type": "application/json" } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
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

export const listInterviews = (userId) =>
  request("GET", "/api/interviews", { query: { user_id: userId } });

export const startCollector = (userId, candidateName, followUps = false) =>
  request("POST", "/api/collector/start", {
    body: {
      user_id: userId,
      follow_ups: followUps,
      ...(candidateName ? { candidate_name: candidateName } : {}),
    },
  });

export const getProgress = (userId) =>
  request("GET", `/api/users/${encodeURIComponent(userId)}/progress`, {
    query: { user_id: userId },
  });

export const getInterview = (interviewId, userId) =>
  request("GET", `/api/interviews/${encodeURIComponent(interviewId)}`, { query: { user_id: userId } });

export const startInterview = (interviewId, userId) =>
  request("POST", `/api/interviews/${encodeURIComponent(interviewId)}/start`, {
    body: { user_id: userId },
  });

export const getFeedback = (sessionId, userId) =>
  request("GET", `/api/interviews/sessions/${encodeURIComponent(sessionId)}/feedback`, {
    query: { user_id: userId },
  });

export function transcriptUrl(kind, sessionId, userId) {
  const url = new URL(`/api/transcripts/${kind}/${encodeURIComponent(sessionId)}`, window.location.origin);
  url.searchParams.set("user_id", userId);
  return url.pathname + url.search;
}
