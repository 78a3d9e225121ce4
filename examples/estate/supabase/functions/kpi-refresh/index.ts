// Refreshes analytics.invoice_kpis; the service key comes from the function's environment.
import { createClient } from "npm:@supabase/supabase-js@2";

Deno.serve(async () => {
  const client = createClient(Deno.env.get("SUPABASE_URL")!, Deno.env.get("SUPABASE_SECRET_KEY")!);
  const { error } = await client.rpc("refresh_invoice_kpis");
  return new Response(error ? "failed" : "ok", { status: error ? 500 : 200 });
});
