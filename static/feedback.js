// The feedback after an interview (GET /api/interviews/sessions/{id}/feedback): total
// score, a score and comment per category, strengths, areas to improve, final assessment,
// then each answer (the candidate's words, key points, STAR, delivery, one suggestion).
// Also the dashboard's progress chart (GET /api/users/{id}/progress), in plain SVG.

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";

function element(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

function deliveryLine(d) {
  const wait = d.time_to_first_word_seconds;
  return (
    `${d.words_per_minute} words/min (${d.pace}) · ${d.answer_seconds} s spoken · ` +
    `${d.fillers_per_minute} fillers/min · ${d.long_pauses} long pause(s)` +
    (d.long_pauses ? `, longest ${d.longest_pause_seconds} s` : "") +
    (wait === null || wait === undefined ? "" : ` · first word after ${wait} s`)
  );
}

function chips(labels, className) {
  const box = element("div", undefined, "chips");
  for (const label of labels) box.append(element("span", label, className));
  return box;
}

function answerItem(answer) {
  const item = element("li");
  item.dataset.index = String(answer.index);
  const head = element("div", undefined, "answer-head");
  head.append(element("span", answer.question), element("span", `${answer.score} / 100`));
  item.append(head);
  item.append(element("blockquote", answer.answer ? `“${answer.answer}”` : "(not answered)", "answer-text"));
  if (answer.follow_up) {
    const reply = answer.follow_up.answer ? `“${answer.follow_up.answer}”` : "(no answer)";
    item.append(element("p", `Follow-up: ${answer.follow_up.question} ${reply}`, "follow-up"));
  }
  item.append(chips(answer.points_covered, "yes"), chips(answer.points_missed, "no"));
  if (answer.star) {
    item.append(
      chips(
        Object.entries(answer.star).map(([part, present]) => `${part} ${present ? "✓" : "✗"}`),
        "star",
      ),
    );
  }
  item.append(element("p", `Good: ${answer.good}`), element("p", `Missing: ${answer.missing}`));
  item.append(element("p", `Try: ${answer.suggestion}`, "suggestion"));
  if (answer.delivery) item.append(element("p", `Delivery: ${deliveryLine(answer.delivery)}`, "delivery"));
  return item;
}

export function renderFeedback(feedback) {
  $("feedback-total").textContent = String(feedback.total_score);
  $("feedback-categories").tBodies[0].replaceChildren(
    ...feedback.category_scores.map((category) => {
      const row = document.createElement("tr");
      row.dataset.category = category.name;
      row.append(
        element("td", category.name),
        element("td", String(category.score)),
        element("td", category.comment),
      );
      return row;
    }),
  );
  $("feedback-strengths").replaceChildren(...feedback.strengths.map((s) => element("li", s)));
  $("feedback-areas").replaceChildren(
    ...feedback.areas_for_improvement.map((area) => element("li", area)),
  );
  $("feedback-assessment").textContent = feedback.final_assessment;
  const delivery = feedback.delivery;
  $("feedback-delivery").hidden = !delivery;
  if (delivery) {
    $("feedback-delivery").textContent =
      `Delivery over ${delivery.answers} spoken answer(s): ${deliveryLine(delivery)}. ` +
      `${delivery.advice} ${delivery.note}`;
  }
  $("feedback-answers").replaceChildren(...(feedback.answers || []).map(answerItem));
  annotateTranscript(feedback.answers || []);
  $("feedback-limits").hidden = !feedback.limits;
  $("feedback-limits").textContent = feedback.limits || "";
  $("feedback").hidden = false;
}

// Beside each answer in the live transcript: its score and its audio timings.
function annotateTranscript(answers) {
  const spoken = [...document.querySelectorAll("#transcript li[data-speaker='user']")];
  for (const answer of answers) {
    const item = spoken.find((li) => li.querySelector(".text")?.textContent === answer.answer);
    if (!item || item.querySelector(".coach")) continue;
    const d = answer.delivery;
    const timing = d
      ? ` · ${d.words_per_minute} wpm · ${d.answer_seconds} s · ${d.long_pauses} long pause(s)` +
        (d.time_to_first_word_seconds === null ? "" : ` · first word after ${d.time_to_first_word_seconds} s`)
      : "";
    item.append(element("span", `Q${answer.index + 1}: ${answer.score}/100${timing}`, "coach"));
  }
}

function svg(tag, attributes, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Total score (0-100, solid) and words per minute (0-250, dashed) per scored interview.
export function renderProgress(progress) {
  const items = progress.interviews;
  $("progress").hidden = items.length === 0;
  const chart = $("progress-chart");
  chart.replaceChildren();
  if (!items.length) return;
  const [w, h, left, right, top, bottom] = [600, 220, 40, 60, 15, 35];
  const x = (i) => left + (items.length === 1 ? (w - left - right) / 2 : (i * (w - left - right)) / (items.length - 1));
  const y = (value, max) => top + (1 - value / max) * (h - top - bottom);
  chart.append(svg("line", { x1: left, y1: y(0, 100), x2: w - right, y2: y(0, 100), class: "axis" }));
  for (const tick of [0, 50, 100]) chart.append(svg("text", { x: 8, y: y(tick, 100) + 4 }, tick));
  for (const tick of [0, 125, 250]) {
    chart.append(svg("text", { x: w - right + 8, y: y(tick, 250) + 4 }, `${tick} wpm`));
  }
  const line = (values, max, className) => {
    const points = values.map((v, i) => (v === null ? null : `${x(i)},${y(v, max)}`)).filter(Boolean);
    if (points.length > 1) chart.append(svg("polyline", { points: points.join(" "), class: className }));
    values.forEach((v, i) => {
      if (v === null) return;
      const dot = svg("circle", { cx: x(i), cy: y(v, max), r: 4, class: `${className} dot` });
      dot.append(svg("title", {}, `${className === "score" ? "score" : "words/min"} ${v}`));
      chart.append(dot);
    });
  };
  line(items.map((i) => i.total_score), 100, "score");
  line(items.map((i) => (i.delivery ? i.delivery.words_per_minute : null)), 250, "wpm");
  items.forEach((item, i) => {
    const label = new Date(item.date).toLocaleDateString();
    chart.append(svg("text", { x: x(i), y: h - 12, "text-anchor": "middle" }, label));
  });
  const change = progress.trend.total_score;
  $("progress-trend").textContent =
    `${items.length} scored interview(s). Solid: total score; dashed: words per minute.` +
    (change && items.length > 1 ? ` Score ${change.first} → ${change.latest}.` : "");
}
