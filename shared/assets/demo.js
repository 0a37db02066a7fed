// Loads the widget with the public key from this page's URL (?key=pk_…), as a tenant's site
// would with a fixed <script data-key> tag.
(() => {
  const key = new URLSearchParams(location.search).get("key");
  if (!key || !/^pk_[a-z2-7]{16}_[A-Za-z0-9_-]{43}$/.test(key)) {
    document.getElementById("no-key").hidden = false;
    return;
  }
  const s = document.createElement("script");
  s.src = "/widget.js";
  s.async = true;
  s.dataset.key = key;
  s.dataset.greeting = "Hi! I'm the Demo Outfitters assistant. How can I help?";
  s.dataset.title = "Demo Outfitters help";
  document.body.append(s);
})();
