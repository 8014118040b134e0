// The pipeline board's drag and drop: an extra over each card's "Move" form, which stays the
// way to move a card with the keyboard, a screen reader or without JavaScript. Dropping a card
// on a column picks that stage in the card's own form and sends it.
(function () {
  "use strict";
  var dragged = null;
  document.addEventListener("dragstart", function (e) {
    var card = e.target.closest && e.target.closest("[data-lead]");
    if (!card) return;
    dragged = card;
    e.dataTransfer.effectAllowed = "move";
    e.dataTransfer.setData("text/plain", card.dataset.lead);
  });
  document.addEventListener("dragover", function (e) {
    if (dragged && e.target.closest && e.target.closest("[data-stage]")) e.preventDefault();
  });
  document.addEventListener("drop", function (e) {
    var column = e.target.closest && e.target.closest("[data-stage]");
    if (!dragged || !column) return;
    e.preventDefault();
    var form = dragged.querySelector("form[data-move]");
    var select = form && form.querySelector("select[name=stage]");
    var stage = column.dataset.stage;
    dragged = null;
    if (!select || !select.querySelector('option[value="' + stage + '"]')) return;
    select.value = stage;
    form.requestSubmit();
  });
  document.addEventListener("dragend", function () { dragged = null; });
})();
