// Variables: `var <name> [value] [-d]` (scope "context") and `global <name> [value] [-d]` (scope "global"),
// string values kept in the workspace. Text output is rlm-rs's; in JSON modes every outcome is a JSON
// object (rlm-rs printed text for set, delete and not-found, which broke JSON consumers).
#include <cstdio>
#include <optional>
#include <string>

#include "cli/context.h"

namespace rlm::cli {

namespace {

// Rust's `{:?}` of a String, as rlm-rs printed values: `String("a \"b\"\n")`.
std::string RustDebugString(std::string_view s) {
  std::string out = "String(\"";
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\0':
        out += "\\0";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[16];
          std::snprintf(buf, sizeof buf, "\\u{%x}", c);
          out += buf;
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  return out + "\")";
}

struct Scope {
  const char* scope;    // Workspace variable scope
  const char* label;    // "variable" / "global", as in the text messages
  const char* missing;  // "Variable" / "Global"
};

void RunVar(Context& ctx, const Scope& sc, const std::string& name, const std::optional<std::string>& value,
            bool del) {
  auto ws = ctx.OpenWorkspace(del || value ? Workspace::Mode::kMustExist : Workspace::Mode::kRead);
  if (del) {  // delete wins over a value, as in rlm-rs
    bool existed = ws->DeleteVar(sc.scope, name);
    if (ctx.json_mode()) {
      ctx.Emit(json{{"action", "delete"},
                    {"deleted", existed},
                    {"name", name},
                    {"scope", sc.scope},
                    {"success", true}});
    } else {
      ctx.Line(std::string("Deleted ") + sc.label + ": " + name);
    }
    return;
  }
  if (value) {
    ws->SetVar(sc.scope, name, *value);
    if (ctx.json_mode()) {
      ctx.Emit(
          json{{"action", "set"}, {"name", name}, {"scope", sc.scope}, {"success", true}, {"value", *value}});
    } else {
      ctx.Line(std::string("Set ") + sc.label + ": " + name + " = " + *value);
    }
    return;
  }
  std::optional<std::string> v = ws->GetVar(sc.scope, name);
  if (ctx.json_mode()) {
    // rlm-rs's ContextValue (adjacently tagged); a missing name is {"name", "value": null}.
    ctx.Emit(v ? json{{"type", "String"}, {"value", *v}} : json{{"name", name}, {"value", nullptr}});
  } else if (v) {
    ctx.Line(name + " = " + RustDebugString(*v));
  } else {
    ctx.Line(std::string(sc.missing) + " '" + name + "' not found");
  }
}

void AddVarCommand(CLI::App& app, Context& ctx, const char* command, const char* help, Scope sc) {
  auto name = std::make_shared<std::string>();
  auto value = std::make_shared<std::optional<std::string>>();
  auto del = std::make_shared<bool>(false);
  auto* sub = app.add_subcommand(command, help);
  sub->add_option("name", *name, "Name")->required();
  sub->add_option("value", *value, "Value to set (omit to print the current value)");
  sub->add_flag("-d,--delete", *del, "Delete it");
  OnRun(sub, ctx, [&ctx, sc, name, value, del] { RunVar(ctx, sc, *name, *value, *del); });
}

}  // namespace

void RegisterVarCommands(CLI::App& app, Context& ctx) {
  AddVarCommand(app, ctx, "var", "Get, set or delete a context variable",
                {"context", "variable", "Variable"});
  AddVarCommand(app, ctx, "global", "Get, set or delete a global variable", {"global", "global", "Global"});
}

}  // namespace rlm::cli
