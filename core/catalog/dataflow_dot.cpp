#include <sstream>

#include "catalog/interface_doc.hpp"

namespace touchpoint::core::catalog {
namespace {

// A DOT string literal: quotes and backslashes escaped, control characters dropped.
std::string quoted(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

std::string label(const std::string& first, const std::string& second) {
  // "\n" inside a DOT label is a line break; it is added after quoting.
  std::string q = quoted(first);
  q.pop_back();
  return q + "\\n" + quoted(second).substr(1);
}

}  // namespace

std::string dataflow_dot(const Installation& in) {
  std::ostringstream out;
  out << "// touchpoint docs: the data flow of " << quoted(in.hub->file.string()) << "\n"
      << "digraph touchpoint {\n"
      << "  rankdir=LR;\n"
      << "  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n"
      << "  edge [fontname=\"Helvetica\", fontsize=10];\n"
      << "  store [shape=cylinder, label=\"central customer store\"];\n";
  bool any_channel = false;
  for (const PipelinePtr& p : in.pipelines)
    for (const SinkUse& s : p->sinks) any_channel = any_channel || !s.channel.empty();
  if (any_channel || in.rulebook != nullptr)
    out << "  rulebook [shape=diamond, label="
        << (in.rulebook ? label("contact rulebook", std::to_string(in.rulebook->scopes().size()) + " rules")
                        : quoted("no rulebook"))
        << "];\n  store -> rulebook [label=\"proposed contacts\"];\n";
  for (const PipelinePtr& p : in.pipelines) {
    const std::string source = "source:" + p->name, pipe = "pipeline:" + p->name;
    out << "  " << quoted(source) << " [shape=cds, label=" << label(p->source.plugin, "source") << "];\n"
        << "  " << quoted(pipe) << " [label=" << label(p->name, std::to_string(p->steps.size()) + " steps") << "];\n"
        << "  " << quoted(source) << " -> " << quoted(pipe) << ";\n";
    if (p->to_store) out << "  " << quoted(pipe) << " -> store;\n";
    for (const SinkUse& s : p->sinks) {
      const std::string sink = "sink:" + p->name + "." + s.name;
      out << "  " << quoted(sink) << " [shape=component, label=" << label(s.plugin.plugin, s.name) << "];\n";
      if (s.channel.empty()) {
        out << "  " << quoted(pipe) << " -> " << quoted(sink) << " [label=\"records\"];\n";
      } else {
        out << "  rulebook -> " << quoted(sink) << " [label=" << quoted(s.channel) << "];\n";
      }
    }
  }
  out << "}\n";
  return out.str();
}

}  // namespace touchpoint::core::catalog
