import helmet from 'helmet';

/**
 * Helmet with a strict Content-Security-Policy: scripts and styles only from Berth itself, never
 * inline, so an injected `<script>` or `style=` attribute does nothing.
 */
export function securityHeaders(options: { upgradeInsecureRequests: boolean }) {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        upgradeInsecureRequests: options.upgradeInsecureRequests ? [] : null,
      },
    },
    // Berth is often reached over plain http on an internal network; HSTS only where TLS is certain.
    strictTransportSecurity: options.upgradeInsecureRequests,
  });
}
