// Optional: post the chat's forms without reloading the page. Without this script the forms post
// and the server answers with the updated page, which works the same.
(function () {
  "use strict";
  if (!window.fetch || !window.DOMParser || !window.FormData) { return; }
  var busy = false;
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form || form.getAttribute("action") !== "/c/" || busy) { return; }
    event.preventDefault();
    var data = new FormData(form);
    var submitter = event.submitter;
    if (submitter && submitter.name) { data.append(submitter.name, submitter.value); }
    busy = true;
    fetch("/c/", { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.documentElement.lang = fresh.documentElement.lang;
        document.body.innerHTML = fresh.body.innerHTML;
        var latest = document.getElementById("latest");
        if (latest) { latest.scrollIntoView(); latest.focus({ preventScroll: true }); }
        busy = false;
      })
      .catch(function () { busy = false; form.submit(); });
  });
})();
