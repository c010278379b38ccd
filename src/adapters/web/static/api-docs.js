// The API page: Swagger UI (vendored, see vendor/swagger-ui/README.md) pointed at the
// server's own OpenAPI document. A file of its own because the page's CSP allows no
// inline script.

const root = document.getElementById("api");

window.SwaggerUIBundle({
  url: root.dataset.openapiUrl,
  domNode: root,
  deepLinking: true,
  // Swagger UI would otherwise send the document to validator.swagger.io for a badge:
  // a call to a third party, and an image the page's CSP refuses.
  validatorUrl: null,
});
