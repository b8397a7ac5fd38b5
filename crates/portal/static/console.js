document.addEventListener("DOMContentLoaded", function () {});
