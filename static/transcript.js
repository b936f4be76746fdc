// The live transcript of a call: the candidate's lines, and the assistant's replies as
// they are spoken sentence by sentence, replaced at the end by what was actually heard
// (a reply cut short by the candidate is marked "interrupted").

export class Transcript {
  constructor(list) {
    this.list = list; // an <ol aria-live="polite">
  }

  clear() {
    this.list.replaceChildren();
  }

  user(text) {
    this.closeReply();
    this.add("user", text);
  }

  // The last answer was taken back (the candidate went on): drop it and any reply to it
  // that was opened; the whole answer is shown again when it is over.
  takeBackUser(text) {
    if (!text) return; // it was taken back before its line was shown
    let last = this.list.lastElementChild;
    if (last && last.dataset.speaker === "assistant" && last.dataset.open === "true") {
      last.remove();
      last = this.list.lastElementChild;
    }
    if (last && last.dataset.speaker === "user" && last.querySelector(".text").textContent === text) {
      last.remove();
    }
  }

  // One more sentence of the reply being spoken.
  replySentence(text) {
    const body = this.openReply().querySelector(".text");
    body.textContent = body.textContent ? `${body.textContent} ${text}` : text;
    this.scroll();
  }

  // The reply is over: `heard` is what was played, `interrupted` if the candidate cut in.
  replyDone(heard, interrupted) {
    const item = this.openReply();
    if (heard) item.querySelector(".text").textContent = heard;
    if (interrupted) {
      item.dataset.interrupted = "true";
      const mark = document.createElement("span");
      mark.className = "interrupted";
      mark.textContent = "interrupted";
      item.append(mark);
    }
    item.dataset.open = "false";
    this.scroll();
  }

  add(speaker, text) {
    const item = document.createElement("li");
    item.className = speaker;
    item.dataset.speaker = speaker;
    const who = document.createElement("span");
    who.className = "who";
    who.textContent = speaker === "user" ? "You" : "Viva";
    const body = document.createElement("span");
    body.className = "text";
    body.textContent = text;
    item.append(who, body);
    this.list.append(item);
    this.scroll();
    return item;
  }

  openReply() {
    const last = this.list.lastElementChild;
    if (last && last.dataset.speaker === "assistant" && last.dataset.open === "true") return last;
    const item = this.add("assistant", "");
    item.dataset.open = "true";
    return item;
  }

  closeReply() {
    const last = this.list.lastElementChild;
    if (last && last.dataset.open === "true") last.dataset.open = "false";
  }

  scroll() {
    this.list.scrollTop = this.list.scrollHeight;
  }
}
