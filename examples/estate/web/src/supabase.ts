// near miss: the publishable key is public by design (it ships to browsers).
import { createClient } from "@supabase/supabase-js";

export const supabase = createClient(
  "https://ssotestatesynthetic0.supabase.co",
  "sb_publishable_Q3vN8kTz1Lp6Rw2Xs9Yb4Hm7",
);
