// pantau live updates: the page works without this; with it, the verdict follows the
// server's fused state over Server-Sent Events and the report form answers in place.
(function () {
  "use strict";
  var me = document.currentScript;
  var slug = me.dataset.slug, lang = me.dataset.lang, tz = me.dataset.tz;
  // Every word shown comes from the page, in the reader's language: state and layer
  // names from the server's one table of them, sentences from the gettext catalogue.
  var named = JSON.parse(me.dataset.words || "{}");

  // items: [text, link or null]; a link reads as the page's "official status page".
  function fill(id, items) {
    var list = document.getElementById(id);
    if (!list) { return; }
    list.textContent = "";
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.textContent = item[0];
      if (item[1]) {
        var a = document.createElement("a");
        a.href = item[1];
        a.rel = "noopener";
        a.textContent = named.official;
        li.appendChild(document.createTextNode(" "));
        li.appendChild(a);
      }
      list.appendChild(li);
    });
  }

  function show(s) {
    var state = document.getElementById("state");
    state.textContent = (named.state || {})[s.state] || s.state;
    state.className = "state state-" + s.state;
    document.getElementById("layer").textContent = (named.layer || {})[s.layer] || s.layer;
    document.getElementById("sentence").textContent = s.verdict[lang];
    var checked = document.getElementById("checked");
    if (checked && checked.dataset.at !== s.at) {
      checked.dataset.at = s.at;
      // In the server's words, as the page was rendered: the browser's own formats put
      // day and month the other way round, without the zone.
      checked.textContent = s.checked[lang];
    }
    fill("evidence", s.evidence.map(function (e) { return [e[lang], null]; }));
    fill("advice", s.advice.map(function (a) { return [a.text[lang], a.url]; }));
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
          if (r.ok) { out.textContent = named.thanks; form.reset(); return; }
          return r.json().then(function (j) { out.textContent = named.failed + " " + j.detail; });
        })
        // No answer, or one that is not pantau's (a proxy's error page): the browser's own
        // message ("TypeError: Failed to fetch") is in its language, not the reader's.
        .catch(function () { out.textContent = named.failed + " " + named.unreachable; });
    });
  }
})();
