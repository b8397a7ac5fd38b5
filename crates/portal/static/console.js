// The "try it" console's one convenience: picking an operation fills in its method and path.
// The console works without this script (the form is answered by the portal's server).
document.addEventListener("DOMContentLoaded", function () {
  var op = document.getElementById("console-operation");
  var method = document.getElementById("console-method");
  var path = document.getElementById("console-path");
  if (!op || !method || !path) return;
  op.addEventListener("change", function () {
    var o = op.options[op.selectedIndex];
    var m = o.getAttribute("data-method");
    var p = o.getAttribute("data-path") || "/";
    method.value = m === "*" ? "GET" : m;
    path.value = p.replace(/\/\*$/, "") || "/";
  });
});
