"use strict";
(async function () {
  const response = await fetch("/api/progress", { credentials: "same-origin" });
  if (!response.ok) {
    document.getElementById("admin-status").textContent = "Admins only: sign in with an admin link.";
    return;
  }
  const tbody = document.querySelector("#progress tbody");
  for (const row of await response.json()) {
    const tr = document.createElement("tr");
    for (const key of ["reviewer", "assigned", "started", "submitted"]) {
      const td = document.createElement("td");
      td.textContent = String(row[key]);
      tr.appendChild(td);
    }
    tbody.appendChild(tr);
  }
})();
