// Live comments: joins the article's websocket group and appends each new comment.
(function () {
  var section = document.getElementById("comments");
  var list = document.getElementById("comment-list");
  if (!section || !list || !window.WebSocket) return;
  var scheme = location.protocol === "https:" ? "wss://" : "ws://";
  var url = scheme + location.host + section.getAttribute("data-ws");
  var retry = 1000;

  function show(comment) {
    var item = document.createElement("li");
    item.className = "fresh";
    var name = document.createElement("strong");
    name.textContent = comment.author_name;
    var when = document.createElement("span");
    when.className = "meta";
    when.textContent = " " + new Date(comment.created_at).toLocaleString();
    item.appendChild(name);
    item.appendChild(when);
    item.appendChild(document.createElement("br"));
    item.appendChild(document.createTextNode(comment.body));
    list.appendChild(item);
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { retry = 1000; };
    socket.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.type === "comment.created" && data.comment) show(data.comment);
    };
    socket.onclose = function () {
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 30000);
    };
  }
  connect();
})();
