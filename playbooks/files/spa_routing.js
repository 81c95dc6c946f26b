// CloudFront Function (viewer request) of the site's default behaviour: a path whose last
// segment has no file extension is a route of the single-page app (/items/42, /account),
// answered with /index.html. /v1/* and /health have behaviours of their own and never
// reach this function, so the API's own 403 and 404 answers stay what they are.
function handler(event) {
  var request = event.request;
  var last = request.uri.split('/').pop();
  if (last.indexOf('.') === -1) {
    request.uri = '/index.html';
  }
  return request;
}
