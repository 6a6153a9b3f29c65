/* Card entry with Stripe.js (or localstripe's stand-in in development).
 * The card goes from the browser to Stripe; the portal only receives the saved
 * card's id (pm_…) and charges it server-side. */
(function () {
  'use strict';
  var box = document.getElementById('card-payment');
  if (!box) { return; }
  var MESSAGES = {
    card_declined: 'カードが承認されませんでした。カード会社にお問い合わせいただくか、別のカードをお使いください。',
    expired_card: 'カードの有効期限が切れています。別のカードをお使いください。',
    incorrect_cvc: 'セキュリティコードが正しくありません。',
    incorrect_number: 'カード番号が正しくありません。',
    invalid_number: 'カード番号が正しくありません。',
    invalid_expiry_year: 'カードの有効期限が正しくありません。',
    processing_error: 'カードの処理中にエラーが発生しました。もう一度お試しください。'
  };
  var GENERIC = 'カード情報を確認できませんでした。入力内容をご確認のうえ、もう一度お試しください。';
  var errors = document.getElementById('card-errors');
  function show(message) { if (errors) { errors.textContent = message; } }
  function reason(error) { return (error && MESSAGES[error.code]) || GENERIC; }

  if (typeof window.Stripe !== 'function') {
    show('カード入力欄を読み込めませんでした。現在オンライン決済をご利用いただけません。');
    return;
  }
  var stripe = window.Stripe(box.dataset.publishableKey);

  var actionSecret = box.dataset.actionSecret;
  if (actionSecret) {  // 3-D Secure: authenticate, then ask the portal to re-read the payment
    stripe.confirmCardPayment(actionSecret).then(function () {
      document.getElementById('complete-form').submit();
    });
    return;
  }

  var form = document.getElementById('pay-form');
  var button = document.getElementById('pay-button');
  var card = stripe.elements().create('card', { hidePostalCode: true });
  card.mount('#card-element');

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    if (button.disabled) { return; }  // a double click sends once
    button.disabled = true;
    show('');
    fetch(box.dataset.setupUrl, {
      method: 'POST', credentials: 'same-origin',
      headers: { 'X-CSRFToken': box.dataset.csrf, 'Accept': 'application/json' }
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (!result.ok || !result.body.client_secret) {
        throw { portal: (result.body && result.body.error) || GENERIC };
      }
      return stripe.confirmCardSetup(result.body.client_secret, { payment_method: { card: card } });
    }).then(function (result) {
      if (result.error) { throw { stripe: result.error }; }
      form.querySelector('input[name="payment_method_id"]').value = result.setupIntent.payment_method;
      form.submit();
    }).catch(function (problem) {
      show(problem && problem.portal ? problem.portal : reason(problem && problem.stripe));
      button.disabled = false;
    });
  });
})();
