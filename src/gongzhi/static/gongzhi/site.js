/* What every page shares, from a file: the Content Security Policy allows no inline script and no on...=
   attribute (docs/deploy.md). Delegated from the document, so content swapped in by htmx works too.
   - [data-nav-toggle]: the ☰ button opens and closes the side menu on a phone;
   - form[data-confirm]: asks the form's data-confirm text before it is sent (a delete); htmx forms use
     hx-confirm instead;
   - [data-more-toggle]: "More filters" shows the rest of a .filters form (app.css: .filters.show-more). */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var nav = event.target.closest("[data-nav-toggle]");
    if (nav) {
      var open = document.body.classList.toggle("nav-open");
      nav.setAttribute("aria-expanded", open ? "true" : "false");
      return;
    }
    var more = event.target.closest("[data-more-toggle]");
    if (more && more.form) more.form.classList.toggle("show-more");
  });

  // In the capture phase, before any listener on the form itself: a cancelled form sends nothing.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) return;
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopPropagation();
    }
  }, true);
})();
