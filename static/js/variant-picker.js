// Progressive enhancement of the variant picker on the product page.
//
// Choosing an option never navigates or submits (WCAG 3.2.2, On Input): keyboard users
// move through radio groups with the arrow keys, and every step fires `change`. Instead,
// the price, stock status, SKU, images and the add-to-cart form are updated in place from the
// variant data the page embeds (#variant-picker-data), and the address is updated with
// history.replaceState so a reload or a shared link shows the same choice.
// Without JavaScript the "Show this option" button submits the form as before.
(function () {
  "use strict";
  var form = document.querySelector("[data-variant-picker]");
  var dataNode = document.getElementById("variant-picker-data");
  if (!form || !dataNode) return;
  var variants;
  try {
    variants = JSON.parse(dataNode.textContent || "[]");
  } catch (error) {
    return; // keep the plain form
  }
  var price = document.querySelector("[data-variant-price]");
  var stock = document.querySelector("[data-variant-stock]");
  var sku = document.querySelector("[data-variant-sku]");
  var unmatched = form.querySelector("[data-variant-unmatched]");
  var slot = document.querySelector("[data-add-to-cart-slot]");
  var gallery = document.querySelector("[data-variant-gallery]");
  var submit = form.querySelector("[data-variant-submit]");
  if (submit) submit.hidden = true; // choices apply at once; nothing left to submit

  function chosenOptions() {
    var wanted = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (input) {
      wanted[input.name.replace(/^o_/, "")] = input.value;
    });
    return wanted;
  }

  function findVariant(wanted) {
    for (var i = 0; i < variants.length; i++) {
      var options = variants[i].options || {};
      var all = Object.keys(wanted).every(function (name) {
        return options[name] === wanted[name];
      });
      if (all) return variants[i];
    }
    return null;
  }

  function useTemplate(kind) {
    var template = document.querySelector('template[data-add-to-cart-template="' + kind + '"]');
    if (!slot || !template) return;
    slot.replaceChildren(template.content.cloneNode(true));
  }

  function showAddToCart(variant) {
    if (!slot) return;
    if (!variant || !variant.purchasable) {
      if (!slot.querySelector("[data-testid=not-purchasable]")) useTemplate("unavailable");
      return;
    }
    if (!slot.querySelector("form")) useTemplate("purchasable");
    var cartForm = slot.querySelector("form");
    if (!cartForm) return;
    var id = cartForm.querySelector("input[name=variant_id]");
    if (id) id.value = String(variant.id);
    var next = cartForm.querySelector("input[name=next]");
    if (next) next.value = window.location.pathname + window.location.search;
    var quantity = cartForm.querySelector("input[name=quantity]");
    if (quantity) {
      quantity.max = String(variant.max_quantity);
      if (Number(quantity.value) > variant.max_quantity) quantity.value = String(variant.max_quantity);
    }
  }

  function setStock(state, label) {
    if (!stock) return;
    stock.className = "stock stock-" + state;
    stock.textContent = label;
  }

  // The chosen variant's own images come first (as the server renders them): the main
  // image takes the first one's src and alt, and the thumbnails follow the rest.
  function showImages(images) {
    if (!gallery || !images || !images.length) return;
    var main = gallery.querySelector("img.main-image");
    if (!main) return;
    function apply(img, image) {
      if (img.getAttribute("src") !== image.src) img.src = image.src;
      img.alt = image.alt;
      img.width = image.width;
      img.height = image.height;
    }
    apply(main, images[0]);
    var thumbs = gallery.querySelectorAll("img.thumb");
    thumbs.forEach(function (thumb, i) {
      if (i + 1 < images.length) apply(thumb, images[i + 1]);
      else thumb.remove();
    });
    for (var i = thumbs.length + 1; i < images.length; i++) {
      var thumb = document.createElement("img");
      thumb.className = "thumb";
      thumb.loading = "lazy";
      apply(thumb, images[i]);
      gallery.appendChild(thumb);
    }
  }

  function rememberChoice(wanted) {
    if (!window.history || !window.history.replaceState) return;
    var params = new URLSearchParams(window.location.search);
    params.delete("variant");
    Object.keys(wanted).forEach(function (name) { params.set("o_" + name, wanted[name]); });
    window.history.replaceState(null, "", window.location.pathname + "?" + params.toString());
  }

  form.addEventListener("change", function () {
    var wanted = chosenOptions();
    var variant = findVariant(wanted);
    rememberChoice(wanted);
    if (unmatched) {
      unmatched.hidden = Boolean(variant);
      unmatched.textContent = "That combination is not available.";
    }
    if (variant) {
      if (price) price.textContent = variant.price;
      setStock(variant.stock_state, variant.stock_label);
      if (sku) sku.textContent = variant.sku;
      showImages(variant.images);
    } else {
      setStock("out_of_stock", "Not available");
    }
    showAddToCart(variant);
  });
})();
