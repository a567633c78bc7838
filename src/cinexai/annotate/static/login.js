"use strict";
// The one-time token arrives in the URL fragment (never sent to any server, never logged).
(async function () {
  const status = document.getElementById("login-status");
  const token = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, "", location.pathname);
  if (!token) {
    const me = await fetch("/api/me", { credentials: "same-origin" });
    if (me.ok) {
      const who = await me.json();
      location.replace(who.role === "admin" ? "/admin" : "/review");
      return;
    }
    status.textContent = "Open the personal login link you were given.";
    return;
  }
  const response = await fetch("/api/login", {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token: token }),
  });
  if (!response.ok) {
    status.textContent = "This login link is unknown, already used or expired. Ask for a new one.";
    return;
  }
  const body = await response.json();
  location.replace(body.next);
})();
