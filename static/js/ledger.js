/* Ledger's own script: loaded with `defer` from _base.html (the CSP allows no inline script). It does two things.

   1. A refused htmx request says why, beside the element that sent it. htmx swaps 2xx, 409 and 422 (the
      htmx-config meta tag's responseHandling) and swaps nothing else; without this, a 403, a 500, a network
      error or an expired session left the page as it was, still saying "up to date". The reason is the
      server's: problem+json `detail`, or the error page's [data-error-message]. An expired session (a 401, an
      answer that is the login page after a redirect, or an error page marked [data-session-expired]) says so,
      with a link to the login page that returns here. A command that failed also changes the page's save status
      ([data-save-status]): "not saved" when refused, "not confirmed" when no answer came.
   2. `data-confirm="question"` on a form, or on its submit button, asks before the form is sent: the
      irreversible operator actions are plain forms, and hx-confirm only works on htmx requests.

   Everything the server sent is inserted as text, never as HTML. */
(function () {
  "use strict";

  var LOGIN_URL = document.body.getAttribute("data-login-url") || "/login/";
  var ANCHORS = "form, section, div, li, td, dd, main";

  function pathOf(url) {
    return new URL(url, window.location.href).pathname;
  }

  /* An XMLHttpRequest follows redirects by itself: an expired session shows up as the login page's URL. */
  function answeredByLogin(xhr) {
    return Boolean(xhr && xhr.responseURL) && pathOf(xhr.responseURL) === pathOf(LOGIN_URL);
  }

  function squeeze(text) {
    return (text || "").replace(/\s+/g, " ").trim();
  }

  /* What went wrong, from the response: {session: bool, text: string}. */
  function readRefusal(xhr) {
    var refusal = { session: xhr.status === 401 || answeredByLogin(xhr), text: "" };
    var type = (xhr.getResponseHeader("Content-Type") || "").toLowerCase();
    if (type.indexOf("json") !== -1) {
      try {
        var problem = JSON.parse(xhr.responseText);
        refusal.text = squeeze([problem.title, problem.detail].filter(Boolean).join(": "));
      } catch (ignored) {
        /* not JSON after all: fall back to the status line below */
      }
    } else if (type.indexOf("html") !== -1 && !refusal.session) {
      var page = new DOMParser().parseFromString(xhr.responseText, "text/html");
      refusal.session = page.querySelector("[data-session-expired]") !== null;
      var title = page.querySelector("h1");
      var message = page.querySelector("[data-error-message]");
      refusal.text = squeeze([title && title.textContent, message && message.textContent].filter(Boolean).join(": "));
    }
    if (!refusal.text) {
      refusal.text = "The server refused this (" + squeeze(xhr.status + " " + xhr.statusText) + ").";
    }
    return refusal;
  }

  /* The block the notice goes in: the form that was sent, else the nearest container of the element. */
  function anchorOf(elt) {
    return (elt && elt.closest && elt.closest(ANCHORS)) || document.querySelector("main") || document.body;
  }

  function noticeIn(anchor) {
    var notice = anchor.querySelector(":scope > [data-request-error]");
    if (!notice) {
      notice = document.createElement("div");
      notice.className = "request-error";
      notice.setAttribute("role", "alert");
      notice.setAttribute("data-request-error", "");
      notice.setAttribute("data-testid", "request-error");
      if (anchor.tagName === "FORM") {
        anchor.append(notice); /* under the button that was pressed */
      } else {
        anchor.prepend(notice);
      }
    }
    notice.replaceChildren();
    return notice;
  }

  function isCommand(detail) {
    var verb = detail.requestConfig && detail.requestConfig.verb;
    return Boolean(verb) && verb.toLowerCase() !== "get";
  }

  /* The page's save status ("up to date") no longer holds once a command went wrong. */
  function markSaveStatus(text) {
    document.querySelectorAll("[data-save-status]").forEach(function (status) {
      var badge = document.createElement("span");
      badge.className = "badge failed";
      badge.textContent = text;
      status.replaceChildren(badge);
    });
  }

  function sessionExpired(notice) {
    var here = window.location.pathname + window.location.search;
    var link = document.createElement("a");
    link.href = LOGIN_URL + "?next=" + encodeURIComponent(here);
    link.textContent = "log in again";
    notice.append("Your session has expired — ", link, ".");
  }

  /* The login page after a redirect is a 200: do not swap it into the page, and report it as refused. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (answeredByLogin(event.detail.xhr)) {
      event.detail.shouldSwap = false;
      event.detail.isError = true;
    }
  });

  document.addEventListener("htmx:responseError", function (event) {
    var refusal = readRefusal(event.detail.xhr);
    var notice = noticeIn(anchorOf(event.detail.elt));
    if (refusal.session) {
      sessionExpired(notice);
    } else {
      notice.textContent = refusal.text;
    }
    if (isCommand(event.detail)) {
      notice.append(" Nothing was saved.");
      markSaveStatus("not saved");
    }
  });

  /* No answer: unlike a refusal, that does not tell whether a command was saved. */
  function unreachable(event) {
    var notice = noticeIn(anchorOf(event.detail.elt));
    if (isCommand(event.detail)) {
      notice.textContent = "The server could not be reached: check the connection, then reload to see whether this was saved.";
      markSaveStatus("not confirmed");
    } else {
      notice.textContent = "The server could not be reached: check the connection; this part of the page may be out of date.";
    }
  }

  document.addEventListener("htmx:sendError", unreachable);
  document.addEventListener("htmx:timeout", unreachable);

  /* A later success from the same place clears the notice (a swap usually has replaced it already). */
  document.addEventListener("htmx:afterRequest", function (event) {
    if (event.detail.successful) {
      var notice = anchorOf(event.detail.elt).querySelector(":scope > [data-request-error]");
      if (notice) {
        notice.remove();
      }
    }
  });

  /* Capture phase, before htmx or the browser act on the submit: a dismissed question sends nothing. */
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      var button = event.submitter;
      var question =
        (button && button.getAttribute("data-confirm")) || (form.getAttribute && form.getAttribute("data-confirm"));
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopImmediatePropagation();
      }
    },
    true
  );
})();
