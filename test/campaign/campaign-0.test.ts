import { describe } from "vitest";
import { describeShard } from "./shard";

describe("fault campaign, shard 0", () => describeShard(0));
