export * from "./directory";
export * from "./enums";
export * from "./policies";
export * from "./transport";
export * from "./whistles";
