import { describe } from "vitest";
import { describeShard } from "./shard";

describe("fault campaign, shard 1", () => describeShard(1));
