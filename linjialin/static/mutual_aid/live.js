// The live feed of the open mutual aid page (issue 6 §2): new needs and offers appear at the top by
// themselves. Server-sent events from #aid-feed[data-stream-url] (mutual_aid:stream); for each event the
// post's card (sent with the event, or fetched) is put first, highlighted for a while. No inline script
// (strict CSP).
(function () {
  "use strict";
  var feed = document.getElementById("aid-feed");
  if (!feed || !feed.dataset.streamUrl || !window.EventSource || !window.fetch) return;

  var HIGHLIGHT = ["border-primary", "border-3", "bg-primary-subtle", "aid-live-new"];
  var HIGHLIGHT_MS = 12000;
  var lastId = feed.dataset.lastEventId || "";
  var source = null;
  var backoff = 2000;
  var chain = Promise.resolve(); // cards are inserted in the order the events came

  function cardUrl(data) {
    if (data.card) return data.card;
    return (feed.dataset.cardUrl || "/mutual-aid/posts/0/card/").replace("/0/", "/" + data.post + "/");
  }

  function insert(data) {
    if (document.getElementById("post-" + data.post)) return Promise.resolve(); // already shown
    // the neighbours' card comes with the event; the author's and a carer's are fetched
    var html = data.html
      ? Promise.resolve(data.html)
      : fetch(cardUrl(data), {
          credentials: "same-origin",
          headers: { "HX-Request": "true", Accept: "text/html" },
        }).then(function (response) {
          return response.ok ? response.text() : ""; // gone (withdrawn, hidden): nothing to show
        });
    return html
      .then(function (html) {
        if (!html || document.getElementById("post-" + data.post)) return;
        var holder = document.createElement("template");
        holder.innerHTML = html.trim();
        var card = holder.content.firstElementChild;
        if (!card) return;
        card.classList.add.apply(card.classList, HIGHLIGHT);
        if (data.match) card.classList.add("aid-live-match");
        feed.insertBefore(card, feed.firstElementChild);
        var empty = document.getElementById("aid-empty");
        if (empty) empty.remove();
        if (window.htmx) window.htmx.process(card);
        window.setTimeout(function () {
          card.classList.remove("bg-primary-subtle", "aid-live-new");
        }, HIGHLIGHT_MS);
      })
      .catch(function () {}); // offline for a moment: the next event or a reload shows it
  }

  function connect() {
    var url = feed.dataset.streamUrl;
    if (lastId) url += (url.indexOf("?") < 0 ? "?" : "&") + "after=" + encodeURIComponent(lastId);
    source = new EventSource(url);
    source.addEventListener("open", function () {
      backoff = 2000;
      feed.dataset.live = "on";
    });
    source.addEventListener("post", function (event) {
      if (event.lastEventId) lastId = event.lastEventId;
      var data;
      try {
        data = JSON.parse(event.data);
      } catch (e) {
        return;
      }
      chain = chain.then(function () {
        return insert(data);
      });
    });
    source.addEventListener("error", function () {
      feed.dataset.live = "off";
      // a dropped line is retried by the browser itself (Last-Event-ID); a refused one (server restart,
      // 5xx) closes the source: open a new one later, naming the last event seen
      if (source.readyState === EventSource.CLOSED) {
        window.setTimeout(connect, backoff);
        backoff = Math.min(backoff * 2, 60000);
      }
    });
  }

  connect();
})();
