// Secure exchange: say which legal deadline a request will get while it is being composed.
(function () {
  "use strict";
  function describe(type, priority, accessibility) {
    if (type !== "request") {
      return type === "hit_follow_up" ? "A hit follow-up is to be answered within the hit-report deadline." : "Only requests get a legal deadline.";
    }
    if (!accessibility) {
      return "Say whether the information is directly or indirectly accessible: it sets the deadline.";
    }
    if (priority === "urgent" && accessibility === "direct") {
      return "Deadline: 8 hours from receipt (urgent, directly accessible; Directive 2023/977 Art. 5(1)(a)).";
    }
    if (priority === "urgent") {
      return "Deadline: 3 calendar days from receipt (urgent, indirectly accessible; Art. 5(1)(b)).";
    }
    return "Deadline: 7 calendar days from receipt (non-urgent request; Art. 5(1)(c)).";
  }
  function update() {
    var hint = document.getElementById("deadline-hint");
    var type = document.getElementById("message-type");
    var priority = document.getElementById("priority");
    var accessibility = document.getElementById("accessibility");
    if (!hint || !type || !priority || !accessibility) {
      return;
    }
    hint.textContent = describe(type.value, priority.value, accessibility.value);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("compose-form");
    if (!form) {
      return;
    }
    form.addEventListener("change", update);
    update();
  });
})();
