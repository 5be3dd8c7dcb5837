// pantau live updates: the page works without this; with it, the verdict follows the
// server's fused state over Server-Sent Events and the report form answers in place.
(function () {
  "use strict";
  var me = document.currentScript;
  var slug = me.dataset.slug, lang = me.dataset.lang, tz = me.dataset.tz;
  var words = {
    en: {operational: "working", degraded: "problems", outage: "down",
         maintenance: "maintenance", unknown: "unknown", thanks: "Thank you, your report counts.",
         failed: "Your report could not be sent: "},
    id: {operational: "normal", degraded: "bermasalah", outage: "down",
         maintenance: "pemeliharaan", unknown: "tidak diketahui",
         thanks: "Terima kasih, laporan Anda tercatat.", failed: "Laporan tidak terkirim: "}
  }[lang === "id" ? "id" : "en"];

  function fill(id, items) {
    var list = document.getElementById(id);
    if (!list) { return; }
    list.textContent = "";
    items.forEach(function (text) {
      var li = document.createElement("li");
      li.textContent = text;
      list.appendChild(li);
    });
  }

  function show(s) {
    var state = document.getElementById("state");
    state.textContent = words[s.state] || s.state;
    state.className = "state state-" + s.state;
    document.getElementById("sentence").textContent = s.verdict[lang];
    var checked = document.getElementById("checked");
    if (checked && checked.dataset.at !== s.at) {
      checked.dataset.at = s.at;
      checked.textContent = new Date(s.at).toLocaleString(lang === "id" ? "id-ID" : "en-GB",
        {timeZone: tz, dateStyle: "short", timeStyle: "short"});
    }
    fill("evidence", s.evidence.map(function (e) { return e[lang]; }));
    fill("advice", s.advice.map(function (a) { return a.text[lang]; }));
  }

  if (window.EventSource && slug) {
    var source = new EventSource("/api/v1/services/" + slug + "/events?tz=" +
                                 encodeURIComponent(tz));
    source.addEventListener("status", function (e) { show(JSON.parse(e.data)); });
  }

  var form = document.getElementById("report-form");
  if (form && window.fetch) {
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var data = new FormData(form), body = {category: data.get("category")};
      if (data.get("text")) { body.text = data.get("text"); }
      if (data.get("region")) { body.region = data.get("region"); }
      var out = document.getElementById("report-result");
      fetch(form.action, {method: "POST", headers: {"Content-Type": "application/json"},
                          body: JSON.stringify(body), credentials: "same-origin"})
        .then(function (r) {
          if (r.ok) { out.textContent = words.thanks; form.reset(); return; }
          return r.json().then(function (j) { out.textContent = words.failed + j.detail; });
        })
        .catch(function (err) { out.textContent = words.failed + err; });
    });
  }
})();
