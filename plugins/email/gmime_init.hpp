// GMime needs g_mime_init() once per process before any other call.
#ifndef TP_EMAIL_GMIME_INIT_HPP
#define TP_EMAIL_GMIME_INIT_HPP

namespace tp_email {

/// Initialises GMime once (thread-safe). Never shut down: other instances of
/// the plugin in the same process may still use it.
void ensure_gmime();

}  // namespace tp_email

#endif  // TP_EMAIL_GMIME_INIT_HPP
