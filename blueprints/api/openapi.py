"""OpenAPI 3.1 description of the public API, built from the live catalogue so the question
codes, options and limits documented are always the ones the API validates against."""

from flask import url_for

from app.models import Question, QuestionKind


def _answer_schema(q: Question) -> dict:
    if q.kind == QuestionKind.NUMBER:
        number = {"type": "number", "minimum": 0}
        if q.max_value is not None:
            number["maximum"] = q.max_value
        if q.step == 1:
            number["type"] = "integer"
        schema = {"description": q.text, "oneOf": [number, {"type": "string"}]}
        if q.brackets:
            schema["oneOf"][1] = {"type": "string", "enum": list(q.brackets)}
        else:
            schema["oneOf"][1] = {"type": "string", "description": "French number: 1 500,50"}
        return schema
    if q.kind == QuestionKind.MULTIPLE:
        return {
            "description": q.text,
            "type": "array",
            "items": {"type": "string", "enum": list(q.options)},
            "minItems": 1,
        }
    return {"description": q.text, "type": "string", "enum": list(q.options)}


def spec(questions: list[Question]) -> dict:
    errors = {
        "type": "object",
        "properties": {
            "errors": {
                "type": "object",
                "description": "One message per question code (or `answers`, `rate_limit`), "
                "in the language of Accept-Language (fr by default).",
                "additionalProperties": {"type": "string"},
            }
        },
        "required": ["errors"],
    }
    product = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "examples": ["TICPE"]},
            "name": {"type": "string"},
            "kind": {"type": "string", "enum": ["financial", "qualitative"]},
            "eligible": {"type": "boolean"},
            "estimated_amount": {
                "type": ["number", "null"],
                "description": "Estimated annual gain in euros; null for qualitative products.",
            },
            "details": {
                "type": "object",
                "description": "How the figure was computed: formula code and version, the "
                "formula in words, inputs, constants and intermediate values.",
            },
            "reason": {"type": ["string", "null"], "description": "Why it does not apply."},
        },
        "required": ["code", "eligible", "estimated_amount", "details", "reason"],
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FinancialTracker simulation API",
            "version": "1.0.0",
            "description": "Estimate what a French business can recover, product by product. "
            "Stateless: nothing is stored. Rate-limited per IP (429 when exceeded).",
        },
        "servers": [{"url": url_for("api.create_simulation", _external=True).rsplit("/", 1)[0]}],
        "paths": {
            "/simulations": {
                "post": {
                    "operationId": "createSimulation",
                    "summary": "Estimate every active product for a set of answers",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/SimulationRequest"},
                                "example": {
                                    "answers": {
                                        "GENERAL_001": "Transport et Logistique",
                                        "GENERAL_002": 2500000,
                                        "GENERAL_003": 45,
                                    }
                                },
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "Every active product, eligible ones first by amount",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/SimulationResult"}
                                }
                            },
                        },
                        "422": {
                            "description": "Invalid or missing answers",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Errors"}
                                }
                            },
                        },
                        "429": {
                            "description": "Too many requests from this address",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Errors"}
                                }
                            },
                        },
                    },
                }
            }
        },
        "components": {
            "schemas": {
                "Answers": {
                    "type": "object",
                    "description": "Answers keyed by question code. Questions whose display "
                    "condition is not met are ignored; required shown questions must be answered.",
                    "properties": {q.code: _answer_schema(q) for q in questions},
                    "additionalProperties": False,
                    "maxProperties": len(questions),
                },
                "SimulationRequest": {
                    "type": "object",
                    "properties": {"answers": {"$ref": "#/components/schemas/Answers"}},
                    "required": ["answers"],
                },
                "Product": product,
                "SimulationResult": {
                    "type": "object",
                    "properties": {
                        "products": {
                            "type": "array",
                            "items": {"$ref": "#/components/schemas/Product"},
                        },
                        "total_estimated_amount": {
                            "type": "number",
                            "description": "Sum of the eligible amounts, in euros.",
                        },
                    },
                    "required": ["products", "total_estimated_amount"],
                },
                "Errors": errors,
            }
        },
    }
