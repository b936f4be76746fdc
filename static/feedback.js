// The feedback after an interview (GET /api/interviews/sessions/{id}/feedback): total
// score, a score and comment per category, strengths, areas to improve, final assessment.

const $ = (id) => document.getElementById(id);

function element(tag, text) {
  const node = document.createElement(tag);
  node.textContent = text;
  return node;
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
  $("feedback").hidden = false;
}
