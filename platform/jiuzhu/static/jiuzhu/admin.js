// Behaviour that Flask-Admin's templates attach with inline handler attributes, which our Content
// Security Policy does not run: the response rewriter (jiuzhu.security.headers) turns them into
// data attributes, handled here.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-jz-noop], [data-jz-confirm], [data-jz-action]");
    if (!el) { return; }
    if (el.hasAttribute("data-jz-noop")) { event.preventDefault(); }
    if (el.hasAttribute("data-jz-confirm") && !window.confirm(el.getAttribute("data-jz-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
    if (el.hasAttribute("data-jz-action")) {
      event.preventDefault();
      if (window.modelActions) { window.modelActions.execute(el.getAttribute("data-jz-action")); }
    }
  }, true);
})();
